/**
 * The `ingest` benchmark as run.ts runs it: on the local stack's embedded PGlite, then on a stack of its own
 * over a scratch database of the PostgreSQL server when one answers; on each, every path asked for (HTTP, then
 * the control socket) on the same enrolled hosts, each with its own bare-insert baseline.
 */
import { findPgbouncer, reachable, startServerScratch } from '@pulsewire/stack';
import { type DatabaseKind, DEFAULT_SERVER_URL } from './databases.ts';
import { enrollFleet, type IngestOptions, runIngestPath } from './ingest.ts';
import type { IngestPath } from './ingest-paths.ts';
import { type IngestMeasured, ingestLogLines, PATH_LABEL } from './ingest-report.ts';
import { type BenchStack, startBenchStack } from './stack.ts';
import { BenchTenant } from './tenant.ts';

export interface IngestBenchOptions {
  /** Hosts on the HTTP path. */
  hosts: number;
  /** Hosts on the socket path (the first `hosts` of them are the HTTP path's). */
  socketHosts: number;
  seconds: number;
  /** POSTs in flight on the HTTP path. */
  concurrency: number;
  /** Batches each socket keeps unanswered on the socket path. */
  inFlightPerSocket: number;
  samplesPerBatch: number;
  paths: readonly IngestPath[];
  databases: readonly DatabaseKind[];
  log: (line: string) => void;
}

/** Runs on each database; `pgliteStack` is the stack run.ts started (on PGlite). */
export async function runIngestBench(
  pgliteStack: BenchStack | undefined,
  options: IngestBenchOptions,
): Promise<IngestMeasured[]> {
  const measured: IngestMeasured[] = [];
  if (options.databases.includes('pglite') && pgliteStack) {
    options.log(`› ingest throughput on PGlite: ${pathsText(options)}`);
    measured.push(...(await runPaths('PGlite', pgliteStack, options)));
  }
  if (options.databases.includes('postgres')) {
    const serverUrl = process.env.DATABASE_URL || DEFAULT_SERVER_URL;
    if (!(await reachable(serverUrl))) {
      options.log(`  no PostgreSQL server at ${new URL(serverUrl).host}: ingest measured on PGlite only`);
    } else {
      for (const pooled of poolingModes(options.log)) {
        measured.push(...(await runOnServer(serverUrl, pooled, options)));
      }
    }
  }
  return measured;
}

function pathsText(o: IngestBenchOptions): string {
  const each = o.paths.map((p) =>
    p === 'http'
      ? `HTTP: ${o.hosts} hosts, ${o.concurrency} in flight`
      : `control sockets: ${o.socketHosts} hosts, ${o.inFlightPerSocket} in flight per socket`,
  );
  return `${each.join('; then ')}; ${o.seconds} s each`;
}

/**
 * Enrolls once (as many hosts as the larger path needs), then measures each path in turn on them. A path that
 * fails (a server without the socket path answers its batches by closing the socket) is reported as such and
 * the others still run.
 */
async function runPaths(
  database: string,
  stack: BenchStack,
  options: IngestBenchOptions,
  serverDatabase?: string,
): Promise<IngestMeasured[]> {
  const hostsOf = (path: IngestPath) => (path === 'http' ? options.hosts : options.socketHosts);
  const fleet = await enrollFleet(
    await BenchTenant.create(stack.url),
    stack,
    Math.max(...options.paths.map(hostsOf)),
    options.log,
  );
  const out: IngestMeasured[] = [];
  for (const path of options.paths) {
    options.log(`  ${PATH_LABEL[path]}:`);
    const settings: IngestOptions = {
      path,
      hosts: hostsOf(path),
      seconds: options.seconds,
      concurrency: options.concurrency,
      inFlightPerSocket: options.inFlightPerSocket,
      samplesPerBatch: options.samplesPerBatch,
      log: options.log,
      ...(serverDatabase ? { serverDatabase } : {}),
    };
    let m: IngestMeasured;
    try {
      m = { database, path, run: await runIngestPath(fleet, stack, settings) };
    } catch (error) {
      m = { database, path, error: error instanceof Error ? error.message : String(error) };
    }
    for (const line of ingestLogLines(m)) options.log(line);
    out.push(m);
  }
  return out;
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

async function runOnServer(serverUrl: string, pooled: boolean, options: IngestBenchOptions): Promise<IngestMeasured[]> {
  const scratch = await startServerScratch(serverUrl, pooled ? 'pw_bench_ingest_pooled' : 'pw_bench_ingest');
  let stack: BenchStack | undefined;
  try {
    stack = await startBenchStack({ databaseUrl: scratch.url, pooled });
    const label = serverLabel(scratch.label, stack.pooler);
    options.log(`› ingest throughput on ${label}, a stack of its own on a scratch database: ${pathsText(options)}`);
    return await runPaths(label, stack, options, new URL(scratch.url).pathname.slice(1));
  } finally {
    await stack?.stop();
    await scratch.stop();
  }
}
