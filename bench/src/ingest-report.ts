/**
 * The `ingest` bench's figures as run.ts reports them: one row per database and path (HTTP, control socket),
 * each against the bare insert of that path's own stored rows in the same run. Pure, unit-tested.
 */
import os from 'node:os';
import type { IngestRun } from './ingest.ts';
import type { IngestPath } from './ingest-paths.ts';
import type { BenchResult } from './report.ts';
import { round } from './stats.ts';

export const INGEST_BAR_VALUES_PER_SECOND = 100_000;
export const INGEST_BAR_RATIO = 0.5;

/** One path on one database: its run, or why it could not be measured (e.g. a server without the socket path). */
export type IngestMeasured =
  | { database: string; path: IngestPath; run: IngestRun; error?: undefined }
  | { database: string; path: IngestPath; run?: undefined; error: string };

export const PATH_LABEL: Record<IngestPath, string> = {
  http: 'signed HTTP POSTs',
  socket: 'batch messages on control sockets',
};

/**
 * What the machine's cores would sustain if they did nothing else: the cores over the CPU this benchmark's
 * own processes (stack, database, load generator) spent per batch. The machine is shared, so the measured
 * rate depends on everyone else's load; this figure does much less.
 */
export function cpuBound(
  run: IngestRun,
  cores = os.cpus().length,
): { msPerBatch: number; batchesPerSecond: number; valuesPerSecond: number } {
  const c = run.cpu;
  const msPerBatch =
    c.workerd.msPerBatch +
    c.wrangler.msPerBatch +
    // On the shared server, its own database's backends: the server's total carries other sessions' work.
    (c.databaseBackends ?? c.database).msPerBatch +
    c.relay.msPerBatch +
    c.pooler.msPerBatch +
    c.loadGenerator.msPerBatch;
  const batchesPerSecond = (cores * 1000) / msPerBatch;
  return { msPerBatch, batchesPerSecond, valuesPerSecond: batchesPerSecond * run.valuesPerBatch };
}

/** `429 rate_limited 12, unanswered 3`, or `none`. */
export function refusalsText(refused: Record<string, number>): string {
  const entries = Object.entries(refused);
  return entries.length ? entries.map(([why, n]) => `${why} ${n}`).join(', ') : 'none';
}

/** How many were in flight: `16 in flight`, or `32 in flight per socket`. */
function inFlightText(run: IngestRun): string {
  return run.path === 'socket' ? `${run.inFlightPerSocket} in flight per socket` : `${run.concurrency} in flight`;
}

/** The log lines of one measured path. */
export function ingestLogLines(m: IngestMeasured, cores = os.cpus().length): string[] {
  const where = `${m.database}, ${PATH_LABEL[m.path]}`;
  if (!m.run) return [`  ${where}: not measured: ${m.error}`];
  const { run } = m;
  const c = run.cpu;
  const bound = cpuBound(run, cores);
  const wire = run.path === 'http' ? 'B gzip' : 'B message';
  const answer = run.path === 'http' ? 'POST' : 'send → ack';
  return [
    `  ${where}: ${round(run.valuesPerSecond)} values/s, ${round(run.batchesPerSecond)} batches/s ` +
      `(${round(run.valuesPerBatch)} values, ${round(run.wireBytesPerBatch)} ${wire} per batch); ${answer} p50 ${round(run.answerMs.p50)} ms, p99 ${round(run.answerMs.p99)} ms; ` +
      `bare insert ${round(run.baseline.valuesPerSecond)} values/s; refused: ${refusalsText(run.refused)}` +
      (run.socketsClosed ? `; sockets closed by the server: ${refusalsText(run.socketsClosed)}` : ''),
    `    CPU per batch: workerd ${round(c.workerd.msPerBatch)} ms, database ${round(c.database.msPerBatch)} ms` +
      (c.databaseBackends ? ` (of which this database's backends ${round(c.databaseBackends.msPerBatch)} ms)` : '') +
      `, relay ${round(c.relay.msPerBatch)} ms, pooler ${round(c.pooler.msPerBatch)} ms, ` +
      `wrangler ${round(c.wrangler.msPerBatch)} ms, load generator ${round(c.loadGenerator.msPerBatch)} ms; ` +
      `machine busy ${round(c.machine.pct)} % of one core (${round(c.machine.msPerBatch)} ms per batch)`,
    `    ours: ${round(bound.msPerBatch)} ms CPU per batch → with the machine's cores to itself ≈ ${round(bound.batchesPerSecond)} batches/s, ${round(bound.valuesPerSecond)} values/s`,
    `    bare insert, CPU per batch of the same rows: ` +
      (run.baseline.cpuPerBatch.database !== undefined
        ? `database backends ${round(run.baseline.cpuPerBatch.database)} ms, `
        : '') +
      `its client ${round(run.baseline.cpuPerBatch.client)} ms`,
  ];
}

const BAR = `≥ ${INGEST_BAR_VALUES_PER_SECOND.toLocaleString('en')} values/s and ≥ ${INGEST_BAR_RATIO * 100} % of the bare insert`;
const BASELINE = 'bare bulk insert of the same rows, same Postgres';

/** One row per database and path, in the order measured. */
export function ingestResults(measured: readonly IngestMeasured[], cores = os.cpus().length): BenchResult[] {
  return measured.map((m) => {
    if (!m.run) {
      return {
        name: `ingest throughput, ${PATH_LABEL[m.path]} (${m.database}): not measured: ${m.error}`,
        value: Number.NaN,
        unit: 'values/s',
        baseline: { name: BASELINE, value: Number.NaN },
        ratio: Number.NaN,
        bar: BAR,
        met: false,
        details: m,
      };
    }
    const { run, database } = m;
    const ratio = run.valuesPerSecond / run.baseline.valuesPerSecond;
    const answer = run.path === 'http' ? 'POST' : 'send → ack';
    const refused =
      (Object.keys(run.refused).length ? `; refused: ${refusalsText(run.refused)}` : '') +
      (run.socketsClosed && Object.keys(run.socketsClosed).length
        ? `; sockets closed by the server: ${refusalsText(run.socketsClosed)}`
        : '');
    return {
      name:
        `ingest throughput, ${PATH_LABEL[run.path]}, ${run.hosts} hosts, ${run.samplesPerBatch} samples per batch, ${inFlightText(run)} ` +
        `(${database}; ${round(run.batchesPerSecond)} batches/s, ${answer} p50 ${round(run.answerMs.p50)} / p99 ${round(run.answerMs.p99)} ms, ` +
        `workerd ${round(run.cpu.workerd.msPerBatch)} ms CPU per batch${refused})`,
      value: round(run.valuesPerSecond),
      unit: 'values/s',
      baseline: { name: BASELINE, value: round(run.baseline.valuesPerSecond) },
      ratio: round(ratio),
      bar: BAR,
      met: run.valuesPerSecond >= INGEST_BAR_VALUES_PER_SECOND && ratio >= INGEST_BAR_RATIO,
      details: { database, ...run, cpuBound: cpuBound(run, cores) },
    };
  });
}
