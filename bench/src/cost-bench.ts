/**
 * The `cost` benchmark: a light, paced ingest load (the default cadence's batch shape) on a stack of its own,
 * over the PostgreSQL server when one answers (Neon runs Postgres; the embedded PGlite's process also carries
 * the relay), to measure what one push costs in Worker and database CPU; then cost-model.ts turns those and the
 * per-push counts read from the code into dollars per host-month for a fleet sharing one account and database.
 * On the priced stack the same load also goes as batch messages on the hosts' control sockets, when asked for,
 * and prices the socket scenario with its own CPU per batch.
 */
import { DEFAULT_CADENCE } from '@pulsewire/protocol';
import { findPgbouncer, openSqlSession, reachable, startPooler, startServerScratch } from '@pulsewire/stack';
import {
  COST_BAR_USD,
  type CostBreakdown,
  type CostInputs,
  costPerHostMonth,
  overSocketInputs,
  type SocketPathMeasured,
} from './cost-model.ts';
import { type DatabaseKind, DEFAULT_SERVER_URL } from './databases.ts';
import { enrollFleet, type IngestRun, runIngestPath } from './ingest.ts';
import { poolingModes, serverLabel } from './ingest-bench.ts';
import { PRICES, PRICES_AS_OF } from './prices.ts';
import { cpuMsOf } from './proc-tree.ts';
import type { BenchResult } from './report.ts';
import { type BenchStack, startBenchStack } from './stack.ts';
import { round } from './stats.ts';
import { BenchTenant } from './tenant.ts';

/**
 * From bench/README.md's storage run (30 Nov 2026, PostgreSQL 15; the 99-value host): one reference host at default retention
 * (30 d raw, 90 d 1 min, 2 y 1 h, with its landing window), and its landing rows per hour. Used when the
 * storage bench did not run in the same invocation.
 */
export const README_STORAGE_PER_HOST = 77e6;
export const README_LANDING_PER_HOST_HOUR = 1_590_000;
/** Neon keeps a day of change history by default on paid plans (assumed; the restore window is configurable). */
const RESTORE_WINDOW_HOURS = 24;

/**
 * Per push, read from the code (worker/src/api/agents.ts, http/logger.ts, wrangler.toml):
 * - one Worker request, and one tenant-object RPC (`recordBatch`);
 * - no Durable Object row written (presence in memory, the ingest limit on the Rate Limiting binding);
 * - no log event: invocation logs are off (wrangler.toml `[observability.logs]`) and the request logger skips a
 *   healthy push (worker/src/http/logger.node.test.ts checks it); a refused, failed or slow push is logged.
 */
export const PER_PUSH_FROM_CODE = {
  workerRequests: 1,
  doRequests: 1,
  doRowsWritten: 0,
  logEvents: 0,
} as const;

export interface CostBenchOptions {
  hosts: number;
  seconds: number;
  ratePerSecond: number;
  fleetHosts: number;
  databases: readonly DatabaseKind[];
  /** From the storage bench in the same invocation, when it ran. */
  storage?: { perHost: number; landingPerHostHour: number; source: string };
  /**
   * Also measure the socket path (batch messages on the hosts' control sockets) under the same light load on the
   * priced stack, and price the socket scenario from it.
   */
  socketPath: boolean;
  log: (line: string) => void;
}

export interface CostRun {
  database: string;
  /** The pooler the priced run went through, when it did. */
  pooler?: string;
  /**
   * Issue 13 item 1's question: stored batches sent over the agent's control socket instead of HTTP
   * (cost-model.ts, `overSocketInputs`). Priced from the socket path measured under the same light load when
   * the server has it (`measured`), else modelled from the HTTP run (`unmeasured` says why).
   */
  overSocket: {
    inputs: CostInputs;
    breakdown: CostBreakdown;
    measured?: IngestRun;
    figures?: SocketPathMeasured;
    unmeasured?: string;
  };
  measured: IngestRun;
  /**
   * The same load on the server without the pooler (a new backend per Worker request), when the priced run went
   * through it: what the pooled endpoint saves.
   */
  direct?: { database: string; measured: IngestRun; dbCpuMsPerPush: number; breakdown: CostBreakdown };
  /**
   * The server's CPU for one connection opened, used for a host lookup and closed (the Worker opens one per
   * request), directly and through the pooler: what the connection itself costs. Absent on PGlite.
   */
  connectionCpuMs?: ConnectionCost;
  inputs: CostInputs;
  sources: Record<string, string>;
  breakdown: CostBreakdown;
  pricesAsOf: string;
}

interface CostMeasurement {
  database: string;
  /** `PgBouncer 1.18.0` when the Worker reached the server through the local pooler. */
  pooler?: string;
  measured: IngestRun;
  /** Neon's compute runs Postgres and its pooler: our database's backends, and PgBouncer's when it was there. */
  dbCpuMsPerPush: number;
  /** The server's URL of the database measured, while it exists (for the bare-connection figure). */
  serverDatabaseUrl?: string;
  /** The priced stack only, when asked for: the socket path under the same load, or why it could not run. */
  socket?: { measured: IngestRun; dbCpuMsPerPush: number } | { error: string };
}

/** Neon's compute runs Postgres and its pooler: our database's backends (else the server's), and PgBouncer's. */
function dbCpuMsPerPush(measured: IngestRun): number {
  // Our database's backends, sampled: the shared server's total carries other sessions' work. Whole through the
  // pooler (its backends live through the window); without it a lower bound (a backend born and gone between two
  // samples is missed), next to the server's total, an upper one.
  return (measured.cpu.databaseBackends ?? measured.cpu.database).msPerBatch + measured.cpu.pooler.msPerBatch;
}

/**
 * The light load on a stack of its own: over the PostgreSQL server when it answers, through the local PgBouncer
 * (Neon's pooled endpoint, which production uses) and directly, else on PGlite. The first measurement is the one
 * priced: the pooled one when pgbouncer is installed.
 */
async function measurePushes(
  options: CostBenchOptions,
  onMeasured: (m: CostMeasurement) => Promise<void>,
): Promise<CostMeasurement[]> {
  const serverUrl = process.env.DATABASE_URL || DEFAULT_SERVER_URL;
  const onServer = options.databases.includes('postgres') && (await reachable(serverUrl));
  const modes = onServer ? [...poolingModes(options.log)].reverse() : [undefined];
  const out: CostMeasurement[] = [];
  for (const pooled of modes) {
    const scratch = pooled === undefined ? undefined : await startServerScratch(serverUrl, 'pw_bench_cost');
    let stack: BenchStack | undefined;
    try {
      stack = await startBenchStack(scratch ? { databaseUrl: scratch.url, pooled: pooled === true } : {});
      const database = scratch ? serverLabel(scratch.label, stack.pooler) : 'PGlite';
      options.log(
        `  ${database}: ${options.hosts} hosts pushing ${options.ratePerSecond} batches/s in all for ${options.seconds} s (a light load: per-push CPU without queueing)`,
      );
      const fleet = await enrollFleet(await BenchTenant.create(stack.url), stack, options.hosts, options.log);
      const settings = {
        hosts: options.hosts,
        seconds: options.seconds,
        concurrency: Math.min(options.hosts, 8),
        ratePerSecond: options.ratePerSecond,
        log: options.log,
        ...(scratch ? { serverDatabase: new URL(scratch.url).pathname.slice(1) } : {}),
      };
      const measured = await runIngestPath(fleet, stack, { ...settings, path: 'http' });
      let socket: CostMeasurement['socket'];
      if (options.socketPath && out.length === 0) {
        options.log('  the same load as batch messages on the same hosts’ control sockets');
        try {
          const run = await runIngestPath(fleet, stack, { ...settings, path: 'socket' });
          socket = { measured: run, dbCpuMsPerPush: dbCpuMsPerPush(run) };
        } catch (error) {
          socket = { error: error instanceof Error ? error.message : String(error) };
          options.log(`  the socket path could not be measured: ${socket.error}`);
        }
      }
      const m: CostMeasurement = {
        database,
        ...(stack.pooler ? { pooler: stack.pooler } : {}),
        measured,
        dbCpuMsPerPush: dbCpuMsPerPush(measured),
        ...(scratch ? { serverDatabaseUrl: scratch.url } : {}),
        ...(socket ? { socket } : {}),
      };
      await onMeasured(m);
      out.push(m);
    } finally {
      await stack?.stop();
      await scratch?.stop();
    }
  }
  return out;
}

export async function runCostBench(options: CostBenchOptions): Promise<CostRun> {
  let connectionCpuMs: ConnectionCost | undefined;
  const [priced, direct] = await measurePushes(options, async (m) => {
    // Once, on the server, while its scratch database exists.
    if (m.serverDatabaseUrl && connectionCpuMs === undefined)
      connectionCpuMs = await connectionCost(m.serverDatabaseUrl);
  });
  const { database, measured, pooler } = priced as CostMeasurement;
  const storage = options.storage ?? {
    perHost: README_STORAGE_PER_HOST,
    landingPerHostHour: README_LANDING_PER_HOST_HOUR,
    source: 'bench/README.md storage run, 30 Nov 2026 (the storage bench did not run in this invocation)',
  };
  const workerdMs = measured.cpu.workerd.msPerBatch;
  const inputs: CostInputs = {
    hosts: options.fleetHosts,
    pushIntervalS: DEFAULT_CADENCE.pushIntervalMs / 1000,
    workerRequestsPerPush: PER_PUSH_FROM_CODE.workerRequests,
    workerCpuMsPerPush: workerdMs,
    doRequestsPerPush: PER_PUSH_FROM_CODE.doRequests,
    doActiveMsPerPush: workerdMs,
    doRowsWrittenPerPush: PER_PUSH_FROM_CODE.doRowsWritten,
    logEventsPerPush: PER_PUSH_FROM_CODE.logEvents,
    dbCpuMsPerPush: (priced as CostMeasurement).dbCpuMsPerPush,
    storageBytesPerHost: storage.perHost,
    historyBytesPerHost: storage.landingPerHostHour * RESTORE_WINDOW_HOURS,
  };
  const socket = (priced as CostMeasurement).socket;
  const socketRun = socket && 'measured' in socket ? socket : undefined;
  const socketFigures: SocketPathMeasured | undefined = socketRun
    ? {
        workerdCpuMsPerBatch: socketRun.measured.cpu.workerd.msPerBatch,
        dbCpuMsPerBatch: socketRun.dbCpuMsPerPush,
        ackMsP50: socketRun.measured.answerMs.p50,
      }
    : undefined;
  const socketInputs = overSocketInputs(inputs, measured.answerMs.p50, socketFigures);
  const pooled = pooler !== undefined;
  const sources = {
    workerCpuMsPerPush: `measured: workerd's CPU per push under wrangler dev (${database}) — an upper bound: it holds the Worker, the tenant object and the local runtime's own work`,
    doActiveMsPerPush:
      "estimated: the whole of workerd's CPU per push (the object does no I/O per push, so its active wall time is about its CPU; hibernation-eligible otherwise, so idle time is not billed)",
    dbCpuMsPerPush:
      database === 'PGlite'
        ? "measured: the stack process's CPU per push (PGlite and the Postgres relay)"
        : pooled
          ? `measured: the CPU per push of the scratch database's backends (sampled from /proc every 100 ms; the server's other processes and other sessions left out: the whole server gave ${round(measured.cpu.database.msPerBatch)} ms) and PgBouncer's (Neon runs its pooler beside Postgres; assumed on the compute); not the relay (Neon's proxy is not the compute)`
          : `measured: the CPU per push of the scratch database's backends (sampled from /proc every 100 ms, a lower bound: a backend born and gone between two samples is missed; the whole server, other sessions included, gave ${round(measured.cpu.database.msPerBatch)} ms); not the relay`,
    perPushCounts:
      'read from the code: 1 Worker request, 1 tenant-object RPC, 0 object rows, 0 log events (invocation logs off, a healthy push not logged)',
    storageBytesPerHost: storage.source,
    historyBytesPerHost: `${RESTORE_WINDOW_HOURS} h of change history assumed ≈ the landing rows written per host in that time (${round(storage.landingPerHostHour / 1000)} kB per host-hour)`,
    overSocket: socketFigures
      ? `measured under the same load on the same hosts' control sockets: the database's CPU per batch as above, the object active for the send → ack median (≥ workerd's CPU per batch); no Worker request or CPU, 1/20 object request per message, no log event`
      : `modelled from the HTTP run: its database CPU, the object active for the POST's median; no Worker request or CPU, 1/20 object request per message, no log event`,
    neon: `Launch plan, 0.25 CU minimum; the fleet pushes every 30 ms on average, so the 5-minute autosuspend never fires; ${pooled ? "through the pooled endpoint (production's DATABASE_URL)" : 'measured without a pooler (pgbouncer not installed, or PGlite)'}`,
  };
  let unmeasured: string | undefined;
  if (!options.socketPath) unmeasured = 'the socket path was not asked for (--ingest-path)';
  else if (socket && 'error' in socket) unmeasured = `the socket path failed: ${socket.error}`;
  const directInputs = direct ? { ...inputs, dbCpuMsPerPush: direct.dbCpuMsPerPush } : undefined;
  return {
    database,
    ...(pooler ? { pooler } : {}),
    measured,
    ...(direct && directInputs
      ? {
          direct: {
            database: direct.database,
            measured: direct.measured,
            dbCpuMsPerPush: direct.dbCpuMsPerPush,
            breakdown: costPerHostMonth(directInputs),
          },
        }
      : {}),
    ...(connectionCpuMs === undefined ? {} : { connectionCpuMs }),
    inputs,
    sources,
    breakdown: costPerHostMonth(inputs),
    overSocket: {
      inputs: socketInputs,
      breakdown: costPerHostMonth(socketInputs),
      ...(socketRun && socketFigures ? { measured: socketRun.measured, figures: socketFigures } : {}),
      ...(unmeasured ? { unmeasured } : {}),
    },
    pricesAsOf: PRICES_AS_OF,
  };
}

const CONNECTIONS = 100;

export interface ConnectionCost {
  /** The backend's CPU, from its start to the end of the lookup. */
  direct: number;
  /** Through PgBouncer: its kept backends' CPU and its own, per connection. */
  pooled?: { backends: number; pooler: number };
}

/**
 * Server CPU per connect + a host lookup + close, `CONNECTIONS` in a row, directly and through a PgBouncer of its
 * own; each process's CPU read exactly (`cpuMsOf`), so other sessions on the server do not count.
 */
async function connectionCost(url: string): Promise<ConnectionCost> {
  const lookup = 'SELECT id, tenant_id, public_key FROM hosts WHERE id = $1';
  const nobody = '00000000-0000-0000-0000-000000000000';
  /** Connects, looks a host up and closes; answers the backend's pid and, read before it exits, its CPU. */
  const connectAndLook = async (target: string) => {
    const session = await openSqlSession(target);
    try {
      const { rows } = await session.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await session.client.query(lookup, [nobody]);
      const pid = rows[0]?.pid as number;
      return { pid, cpuMs: cpuMsOf(pid) ?? 0 };
    } finally {
      await session.end();
    }
  };
  let direct = 0;
  for (let i = 0; i < CONNECTIONS; i++) direct += (await connectAndLook(url)).cpuMs;
  if (!findPgbouncer()) return { direct: direct / CONNECTIONS };
  const pooler = await startPooler(url);
  try {
    const backends = new Set<number>();
    for (let i = 0; i < 10; i++) backends.add((await connectAndLook(pooler.url)).pid); // warm
    const cpu = () => [...backends].reduce((sum, pid) => sum + (cpuMsOf(pid) ?? 0), 0);
    const before = { backends: cpu(), pooler: cpuMsOf(pooler.pid) ?? 0 };
    for (let i = 0; i < CONNECTIONS; i++) backends.add((await connectAndLook(pooler.url)).pid);
    return {
      direct: direct / CONNECTIONS,
      pooled: {
        backends: (cpu() - before.backends) / CONNECTIONS,
        pooler: ((cpuMsOf(pooler.pid) ?? 0) - before.pooler) / CONNECTIONS,
      },
    };
  } finally {
    await pooler.stop();
  }
}

export function logCost(run: CostRun, log: (line: string) => void): void {
  const b = run.breakdown;
  log(
    `  per push: workerd ${round(run.inputs.workerCpuMsPerPush)} ms CPU, database ${round(run.inputs.dbCpuMsPerPush)} ms CPU; ` +
      `${round(b.pushesPerHostMonth)} pushes per host-month; Neon ${b.neon.cu} CU (${round(b.neon.requiredVcpu)} vCPU needed)` +
      (run.connectionCpuMs === undefined
        ? ''
        : `; a connection and a host lookup cost the server ${round(run.connectionCpuMs.direct)} ms CPU directly` +
          (run.connectionCpuMs.pooled
            ? `, ${round(run.connectionCpuMs.pooled.backends)} ms + PgBouncer ${round(run.connectionCpuMs.pooled.pooler)} ms through it`
            : '')),
  );
  for (const l of b.lines) {
    log(
      `    ${l.name}: ${round(l.perHost)} ${l.unit} per host → $${l.perHostUsd.toFixed(5)} per host-month (marginal $${l.marginalPerHostUsd.toFixed(5)})`,
    );
  }
  log(
    `  total $${b.perHostMonthUsd.toFixed(4)} per host-month (marginal $${b.marginalPerHostMonthUsd.toFixed(4)}); dominant: ${b.dominant}`,
  );
  const o = run.overSocket;
  log(
    o.figures
      ? `  over the control socket (measured, same load): workerd ${round(o.figures.workerdCpuMsPerBatch)} ms, database ${round(o.figures.dbCpuMsPerBatch)} ms CPU per batch, send → ack p50 ${round(o.figures.ackMsP50)} ms; total $${o.breakdown.perHostMonthUsd.toFixed(4)} per host-month, dominant: ${o.breakdown.dominant}`
      : `  over the control socket (modelled from the HTTP run${o.unmeasured ? `; ${o.unmeasured}` : ''}): total $${o.breakdown.perHostMonthUsd.toFixed(4)} per host-month, dominant: ${o.breakdown.dominant}`,
  );
  if (run.direct) {
    const d = run.direct;
    const neon = (x: CostBreakdown) => x.lines.find((l) => l.name === 'Neon compute')?.perHostUsd ?? Number.NaN;
    log(
      `  without the pooler (${d.database}): database ${round(d.dbCpuMsPerPush)} ms CPU per push (its backends, a lower bound; the whole shared server ${round(d.measured.cpu.database.msPerBatch)} ms), workerd ${round(d.measured.cpu.workerd.msPerBatch)} ms; ` +
        `Neon ${d.breakdown.neon.cu} CU, compute $${neon(d.breakdown).toFixed(4)} against $${neon(b).toFixed(4)} pooled; total $${d.breakdown.perHostMonthUsd.toFixed(4)}`,
    );
  }
}

export function costResults(run: CostRun): BenchResult[] {
  const pooled = run.pooler !== undefined;
  return [
    costResult(
      run,
      run.breakdown,
      `signed HTTP pushes, as today${pooled ? ", through the pooled endpoint (production's)" : ''}`,
    ),
    ...(run.direct
      ? [costResult(run, run.direct.breakdown, 'the same without the pooler (a new Postgres backend per push)')]
      : []),
    costResult(
      run,
      run.overSocket.breakdown,
      run.overSocket.figures
        ? `stored batches over the control socket (measured under the same load: workerd ${round(run.overSocket.figures.workerdCpuMsPerBatch)} ms, database ${round(run.overSocket.figures.dbCpuMsPerBatch)} ms CPU per batch, send → ack p50 ${round(run.overSocket.figures.ackMsP50)} ms)`
        : `scenario: stored batches over the control socket (modelled from this run's HTTP figures${run.overSocket.unmeasured ? `; ${run.overSocket.unmeasured}` : ''})`,
    ),
  ];
}

function costResult(run: CostRun, b: CostBreakdown, what: string): BenchResult {
  const dominant = b.lines.find((l) => l.name === b.dominant);
  return {
    name: `cost per host-month, ${run.inputs.hosts.toLocaleString('en')} hosts at the default cadence, ${what} (prices ${run.pricesAsOf}; marginal $${round(b.marginalPerHostMonthUsd)})`,
    value: Number(b.perHostMonthUsd.toFixed(4)),
    unit: '$',
    baseline: { name: `its largest line, ${b.dominant}`, value: Number((dominant?.perHostUsd ?? 0).toFixed(4)) },
    ratio: round(b.perHostMonthUsd / (dominant?.perHostUsd ?? Number.NaN)),
    bar: `≤ $${COST_BAR_USD}`,
    met: b.met,
    details: { ...run, prices: PRICES },
  };
}
