/**
 * The `ingest` benchmark as run.ts runs it: on the local stack's embedded PGlite, then on a stack of its own
 * over a scratch database of the PostgreSQL server when one answers; each with its bare-insert baseline.
 */
import os from 'node:os';
import { findPgbouncer, reachable, startServerScratch } from '@pulsewire/stack';
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
      for (const pooled of poolingModes(options.log)) {
        measured.push(await runOnServer(serverUrl, pooled, settings, options.log));
      }
    }
  }
  return measured;
}

/**
 * The server directly (a new backend per Worker request), then through a local PgBouncer in transaction mode,
 * the stand-in for Neon's pooled endpoint that production's DATABASE_URL names; the second only where pgbouncer
 * is installed.
 */
export function poolingModes(log: (line: string) => void): boolean[] {
  if (findPgbouncer()) return [false, true];
  log('  pgbouncer is not installed (apt-get install pgbouncer): the server measured without a pooler only');
  return [false];
}

/** The label of a server run: `PostgreSQL 15.20, direct` or `PostgreSQL 15.20 via PgBouncer 1.18.0`. */
export function serverLabel(server: string, pooler: string | undefined): string {
  return pooler ? `${server} via ${pooler} (transaction mode)` : `${server}, direct`;
}

async function runOnServer(
  serverUrl: string,
  pooled: boolean,
  settings: Omit<IngestBenchOptions, 'databases'>,
  log: (line: string) => void,
): Promise<IngestMeasured> {
  const scratch = await startServerScratch(serverUrl, pooled ? 'pw_bench_ingest_pooled' : 'pw_bench_ingest');
  let stack: BenchStack | undefined;
  try {
    stack = await startBenchStack({ databaseUrl: scratch.url, pooled });
    const label = serverLabel(scratch.label, stack.pooler);
    log(`› ingest throughput on ${label}: a stack of its own on a scratch database`);
    const run = await runIngest(await BenchTenant.create(stack.url), stack, {
      ...settings,
      serverDatabase: new URL(scratch.url).pathname.slice(1),
    });
    logRun(label, run, log);
    return { database: label, run };
  } finally {
    await stack?.stop();
    await scratch.stop();
  }
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

function logRun(database: string, run: IngestRun, log: (line: string) => void): void {
  const c = run.cpu;
  const bound = cpuBound(run);
  log(
    `  ${database}: ${round(run.valuesPerSecond)} values/s, ${round(run.batchesPerSecond)} batches/s ` +
      `(${round(run.valuesPerBatch)} values, ${round(run.gzipBytesPerBatch)} B gzip per batch); POST p50 ${round(run.postMs.p50)} ms, p99 ${round(run.postMs.p99)} ms; ` +
      `bare insert ${round(run.baseline.valuesPerSecond)} values/s; refused ${JSON.stringify(run.refused)}`,
  );
  log(
    `    CPU per batch: workerd ${round(c.workerd.msPerBatch)} ms, database ${round(c.database.msPerBatch)} ms` +
      (c.databaseBackends ? ` (of which this database's backends ${round(c.databaseBackends.msPerBatch)} ms)` : '') +
      `, relay ${round(c.relay.msPerBatch)} ms, pooler ${round(c.pooler.msPerBatch)} ms, ` +
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
