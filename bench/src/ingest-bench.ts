/**
 * The `ingest` benchmark as run.ts runs it: on the local stack's embedded PGlite, then on a stack of its own
 * over a scratch database of the PostgreSQL server when one answers; each with its bare-insert baseline.
 */
import os from 'node:os';
import { reachable, startServerScratch } from '@pulsewire/stack';
import { type DatabaseKind, DEFAULT_SERVER_URL } from './databases.ts';
import { type IngestRun, runIngest } from './ingest.ts';
import type { BenchResult } from './report.ts';
import { type BenchStack, startBenchStack } from './stack.ts';
import { round } from './stats.ts';
import { BenchTenant } from './tenant.ts';

export const INGEST_BAR_VALUES_PER_SECOND = 100_000;
export const INGEST_BAR_RATIO = 0.5;

export interface IngestBenchOptions {
  hosts: number;
  seconds: number;
  concurrency: number;
  samplesPerBatch: number;
  databases: readonly DatabaseKind[];
  log: (line: string) => void;
}

export interface IngestMeasured {
  database: string;
  run: IngestRun;
}

/** Runs on each database; `pgliteStack` is the stack run.ts started (on PGlite). */
export async function runIngestBench(
  pgliteStack: BenchStack | undefined,
  options: IngestBenchOptions,
): Promise<IngestMeasured[]> {
  const measured: IngestMeasured[] = [];
  const settings = {
    hosts: options.hosts,
    seconds: options.seconds,
    concurrency: options.concurrency,
    samplesPerBatch: options.samplesPerBatch,
    log: options.log,
  };
  if (options.databases.includes('pglite') && pgliteStack) {
    options.log(
      `› ingest throughput on PGlite: ${options.hosts} hosts, ${options.concurrency} in flight, ${options.seconds} s`,
    );
    const run = await runIngest(await BenchTenant.create(pgliteStack.url), pgliteStack, settings);
    measured.push({ database: 'PGlite', run });
    logRun('PGlite', run, options.log);
  }
  if (options.databases.includes('postgres')) {
    const serverUrl = process.env.DATABASE_URL || DEFAULT_SERVER_URL;
    if (!(await reachable(serverUrl))) {
      options.log(`  no PostgreSQL server at ${new URL(serverUrl).host}: ingest measured on PGlite only`);
    } else {
      const scratch = await startServerScratch(serverUrl, 'pw_bench_ingest');
      let stack: BenchStack | undefined;
      try {
        options.log(`› ingest throughput on ${scratch.label}: a second stack on a scratch database`);
        stack = await startBenchStack({ databaseUrl: scratch.url });
        const run = await runIngest(await BenchTenant.create(stack.url), stack, {
          ...settings,
          // The server's backends are not in the stack's tree; other sessions' queries count too (said in the README).
          databaseProcesses: (p) => p.comm === 'postgres',
        });
        measured.push({ database: scratch.label, run });
        logRun(scratch.label, run, options.log);
      } finally {
        await stack?.stop();
        await scratch.stop();
      }
    }
  }
  return measured;
}

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
  const msPerBatch = c.workerd.msPerBatch + c.wrangler.msPerBatch + c.database.msPerBatch + c.loadGenerator.msPerBatch;
  const batchesPerSecond = (cores * 1000) / msPerBatch;
  return { msPerBatch, batchesPerSecond, valuesPerSecond: batchesPerSecond * run.valuesPerBatch };
}

function logRun(database: string, run: IngestRun, log: (line: string) => void): void {
  const c = run.cpu;
  const bound = cpuBound(run);
  log(
    `  ${database}: ${round(run.valuesPerSecond)} values/s, ${round(run.batchesPerSecond)} batches/s ` +
      `(${round(run.valuesPerBatch)} values, ${round(run.gzipBytesPerBatch)} B gzip per batch); POST p50 ${round(run.postMs.p50)} ms, p99 ${round(run.postMs.p99)} ms; ` +
      `bare insert ${round(run.baseline.valuesPerSecond)} values/s; refused ${JSON.stringify(run.refused)}`,
  );
  log(
    `    CPU per batch: workerd ${round(c.workerd.msPerBatch)} ms, database ${round(c.database.msPerBatch)} ms, ` +
      `wrangler ${round(c.wrangler.msPerBatch)} ms, load generator ${round(c.loadGenerator.msPerBatch)} ms; ` +
      `machine busy ${round(c.machine.pct)} % of one core (${round(c.machine.msPerBatch)} ms per batch)`,
  );
  log(
    `    ours: ${round(bound.msPerBatch)} ms CPU per batch → with the machine's cores to itself ≈ ${round(bound.batchesPerSecond)} batches/s, ${round(bound.valuesPerSecond)} values/s`,
  );
}

export function ingestResults(measured: readonly IngestMeasured[]): BenchResult[] {
  return measured.map(({ database, run }) => {
    const ratio = run.valuesPerSecond / run.baseline.valuesPerSecond;
    return {
      name: `ingest throughput, ${run.hosts} hosts, ${run.samplesPerBatch} samples per batch, ${run.concurrency} in flight (${database}; ${round(run.batchesPerSecond)} batches/s, POST p50 ${round(run.postMs.p50)} / p99 ${round(run.postMs.p99)} ms)`,
      value: round(run.valuesPerSecond),
      unit: 'values/s',
      baseline: {
        name: 'bare bulk insert of the same rows, same Postgres',
        value: round(run.baseline.valuesPerSecond),
      },
      ratio: round(ratio),
      bar: `≥ ${INGEST_BAR_VALUES_PER_SECOND.toLocaleString('en')} values/s and ≥ ${INGEST_BAR_RATIO * 100} % of the bare insert`,
      met: run.valuesPerSecond >= INGEST_BAR_VALUES_PER_SECOND && ratio >= INGEST_BAR_RATIO,
      details: { database, ...run, cpuBound: cpuBound(run) },
    };
  });
}
