/**
 * Ingest throughput: `hosts` enrolled hosts push signed, gzip'd batches shaped like the agent's idle push
 * (three 10 s samples of this machine, re-stamped, and the synthetic host's custom metrics for each) through
 * the whole path (signature, validation, the Postgres transaction, the tenant object), `concurrency` requests
 * in flight, a host never twice at once, for a fixed time after a warm-up. The baseline is the same rows
 * bulk-inserted straight into the same landing tables of the same Postgres, in the same run.
 */
import fs from 'node:fs';
import { type CustomMetric, customPoints, IngestResponse, type Sample, samplePoints } from '@pulsewire/protocol';
import { openSqlSession } from '@pulsewire/stack';
import { syntheticCustomMetrics } from '@pulsewire/stack/synthetic';
import { backendDatabase, cpuMsOf, descendants, listProcesses, type ProcStat, TICKS_PER_SECOND } from './proc-tree.ts';
import { type Distribution, distribution } from './stats.ts';
import type { BenchHost, BenchTenant } from './tenant.ts';

/** The agent's idle push: three samples collected 10 s apart, sent every 30 s (the default of `samplesPerBatch`). */
export const SAMPLES_PER_BATCH = 3;
const ENROLL_CONCURRENCY = 4;
const WARMUP_MS = 5_000;
/** Rows per statement in the bare insert. */
const BULK_ROWS = 500;
const DAY_MS = 86_400_000;

export interface IngestOptions {
  hosts: number;
  seconds: number;
  concurrency: number;
  /** Samples per batch (each with its custom metrics); more than 3 is a spool's backfill shape. */
  samplesPerBatch?: number;
  log: (line: string) => void;
  /** Paced at this many batches per second instead of as fast as `concurrency` allows (the cost bench's light load). */
  ratePerSecond?: number;
  /**
   * The PostgreSQL server's database the stack writes to, when it is not the embedded PGlite: the server's
   * processes are not in the stack's tree, and this database's backends are told apart by their command line.
   */
  serverDatabase?: string;
  /** Called once the hosts are enrolled, before the first push (warm-up included), and after the last answer. */
  load?: { started(): Promise<void>; ended(): Promise<void> };
}

export interface CpuShare {
  /** CPU ms over the window. */
  ms: number;
  /** Per stored batch. */
  msPerBatch: number;
  /** Of one core, over the window. */
  pct: number;
}

export interface IngestRun {
  hosts: number;
  samplesPerBatch: number;
  concurrency: number;
  seconds: number;
  batches: number;
  samples: number;
  customPoints: number;
  /** Metric values stored: every sample's series points plus every custom metric's (a histogram is 7). */
  values: number;
  valuesPerSecond: number;
  batchesPerSecond: number;
  valuesPerBatch: number;
  gzipBytesPerBatch: number;
  jsonBytesPerBatch: number;
  /** The POST round trip alone (gzip and signing happen before the clock starts). */
  postMs: Distribution;
  /** Answers other than 200, by status (e.g. 429 from the per-host limit); not counted as stored. */
  refused: Record<string, number>;
  /** Where the machine's CPU went during the timed window. */
  cpu: {
    workerd: CpuShare;
    wrangler: CpuShare;
    /**
     * On PGlite, the stack's own process (PGlite and the relay, inseparable); on the PostgreSQL server, every
     * `postgres` process (postmaster, auxiliaries, backends, reaped ones; other sessions' work counts too).
     */
    database: CpuShare;
    /**
     * On the server only: the backends of the stack's database, other sessions' work left out, their exact CPU
     * time sampled from /proc every 100 ms. Whole for the pooler's backends, which live through the window; without a pooler each
     * backend lives for one request, often between two samples, so this is then a lower bound (and `database`,
     * other sessions included, an upper one).
     */
    databaseBackends?: CpuShare;
    /** The stack's process on the server: the WebSocket relay that stands in for Neon's proxy (0 on PGlite). */
    relay: CpuShare;
    /** PgBouncer, when the stack runs one. */
    pooler: CpuShare;
    loadGenerator: CpuShare;
    /** The machine's busy time (all processes, from /proc/stat), other helpers included. */
    machine: CpuShare;
  };
  baseline: BareInsert;
}

export interface BareInsert {
  sampleRows: number;
  customRows: number;
  values: number;
  seconds: number;
  valuesPerSecond: number;
  connections: number;
}

interface Sent {
  host: number;
  ts: number[];
}

export async function runIngest(
  tenant: BenchTenant,
  stack: { pid: number; databaseUrl: string },
  options: IngestOptions,
): Promise<IngestRun> {
  const hosts = await enrollMany(tenant, options.hosts, options.log);
  const tenantId = await tenantIdOf(stack.databaseUrl, hosts[0]?.id as string);
  const lastTs = hosts.map(() => 0);
  const perBatch = options.samplesPerBatch ?? SAMPLES_PER_BATCH;
  const batchOf = (index: number): { samples: Sample[]; metrics: CustomMetric[]; ts: number[] } => {
    const host = hosts[index] as BenchHost;
    const ts: number[] = [];
    for (let i = 0; i < perBatch; i++) {
      // Unique per host, close to now (an old hour would be marked late for compaction, a future one refused).
      const next = Math.max((lastTs[index] as number) + 1, Date.now() - (perBatch - i));
      lastTs[index] = next;
      ts.push(next);
    }
    return {
      samples: ts.map((t) => host.sample(t)),
      metrics: ts.flatMap((t) => syntheticCustomMetrics(index, t)),
      ts,
    };
  };
  const valuesOf = (samples: Sample[], metrics: CustomMetric[]) =>
    samples.reduce((n, s) => n + samplePoints(s).length, 0) + metrics.reduce((n, m) => n + customPoints(m).length, 0);

  const idle = hosts.map((_, i) => i);
  const sent: Sent[] = [];
  const posts: number[] = [];
  const refused: Record<string, number> = {};
  let values = 0;
  let samples = 0;
  let custom = 0;
  let gzipBytes = 0;
  let jsonBytes = 0;
  let measuring = false;
  const pushOne = async (): Promise<void> => {
    const index = idle.shift();
    if (index === undefined) return void (await new Promise((resolve) => setTimeout(resolve, 1)));
    try {
      const batch = batchOf(index);
      const host = hosts[index] as BenchHost;
      const prepared = await host.prepare(batch.samples, batch.metrics);
      const counted = measuring;
      const started = performance.now();
      const answer = await host.send(prepared);
      const took = performance.now() - started;
      if (!counted || !measuring) return;
      if (answer.status !== 200) {
        refused[answer.status] = (refused[answer.status] ?? 0) + 1;
        return;
      }
      const body = IngestResponse.parse(JSON.parse(answer.text));
      const rows = batch.samples.length + batch.metrics.length;
      if (body.accepted !== rows)
        refused[`accepted ${body.accepted} of ${rows}`] = (refused[`accepted ${body.accepted} of ${rows}`] ?? 0) + 1;
      posts.push(took);
      sent.push({ host: index, ts: batch.ts });
      values += valuesOf(batch.samples, batch.metrics);
      samples += batch.samples.length;
      custom += batch.metrics.length;
      gzipBytes += prepared.body.length;
      jsonBytes += prepared.jsonBytes;
    } finally {
      idle.push(index);
    }
  };

  options.log(
    `  ${hosts.length} hosts enrolled; ${WARMUP_MS / 1000} s warm-up, then ${options.seconds} s timed, ${options.concurrency} in flight`,
  );
  const warmupEnds = performance.now() + WARMUP_MS;
  let windowEnds = Number.POSITIVE_INFINITY;
  let before: CpuReading | undefined;
  let windowStarted = 0;
  let backends: BackendSampler | undefined;
  const startWindow = () => {
    if (options.serverDatabase) backends = new BackendSampler(options.serverDatabase);
    before = readCpu(stack.pid, options.serverDatabase);
    windowStarted = performance.now();
    windowEnds = windowStarted + options.seconds * 1000;
    measuring = true;
  };
  let nextSlot = performance.now();
  const paced = async () => {
    if (!options.ratePerSecond) return;
    const slot = nextSlot;
    nextSlot += 1000 / options.ratePerSecond;
    const wait = slot - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  };
  await options.load?.started();
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, hosts.length) }, async () => {
      for (;;) {
        await paced();
        const now = performance.now();
        if (!measuring && now >= warmupEnds) startWindow();
        if (now >= windowEnds) break;
        await pushOne();
      }
    }),
  );
  const after = readCpu(stack.pid, options.serverDatabase);
  const backendsMs = backends?.stop();
  await options.load?.ended();
  measuring = false;
  const elapsedMs = performance.now() - windowStarted;
  const batches = posts.length;
  const share = (ms: number): CpuShare => ({
    ms,
    msPerBatch: batches ? ms / batches : Number.NaN,
    pct: (ms / elapsedMs) * 100,
  });
  const start = before as CpuReading;

  options.log(
    `  timed: ${batches} batches, ${values} values in ${(elapsedMs / 1000).toFixed(1)} s; bare insert of the same rows`,
  );
  const baseline = await bareInsert(stack.databaseUrl, tenantId, hosts, sent);
  return {
    hosts: hosts.length,
    samplesPerBatch: perBatch,
    concurrency: options.concurrency,
    seconds: elapsedMs / 1000,
    batches,
    samples,
    customPoints: custom,
    values,
    valuesPerSecond: values / (elapsedMs / 1000),
    batchesPerSecond: batches / (elapsedMs / 1000),
    valuesPerBatch: batches ? values / batches : Number.NaN,
    gzipBytesPerBatch: batches ? gzipBytes / batches : Number.NaN,
    jsonBytesPerBatch: batches ? jsonBytes / batches : Number.NaN,
    postMs: distribution(posts),
    refused,
    cpu: {
      workerd: share(after.workerd - start.workerd),
      wrangler: share(after.wrangler - start.wrangler),
      database: share(after.database - start.database),
      ...(backendsMs === undefined ? {} : { databaseBackends: share(backendsMs) }),
      relay: share(after.relay - start.relay),
      pooler: share(after.pooler - start.pooler),
      loadGenerator: share(after.loadGenerator - start.loadGenerator),
      machine: share(after.machine - start.machine),
    },
    baseline,
  };
}

/** Enrolls with the real agent CLI (its key pair and facts), a few at a time. */
async function enrollMany(tenant: BenchTenant, count: number, log: (line: string) => void): Promise<BenchHost[]> {
  const hosts: BenchHost[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(ENROLL_CONCURRENCY, count) }, async () => {
      while (next < count) {
        const index = next++;
        hosts[index] = await tenant.enrollHost(`ingest-${index}`);
        if ((index + 1) % 10 === 0) log(`  ${index + 1} of ${count} hosts enrolled`);
      }
    }),
  );
  return hosts;
}

async function tenantIdOf(databaseUrl: string, hostId: string): Promise<string> {
  const session = await openSqlSession(databaseUrl);
  try {
    const { rows } = await session.client.query<{ tenant_id: string }>('SELECT tenant_id FROM hosts WHERE id = $1', [
      hostId,
    ]);
    if (!rows[0]) throw new Error(`host ${hostId} is not in the database the stack writes to`);
    return rows[0].tenant_id;
  } finally {
    await session.end();
  }
}

interface CpuReading {
  workerd: number;
  wrangler: number;
  database: number;
  relay: number;
  pooler: number;
  loadGenerator: number;
  machine: number;
}

/**
 * The stack's tree split into workerd, PgBouncer, wrangler's Node processes and the stack's own process (PGlite
 * and the relay, or the relay alone beside a server); on a server, its processes and its database's backends.
 */
function readCpu(stackPid: number, serverDatabase?: string): CpuReading {
  const all = listProcesses();
  const ms = (ticks: number) => (ticks * 1000) / TICKS_PER_SECOND;
  const own = (p: ProcStat) => ms(p.ticks + p.childTicks);
  const reading: CpuReading = {
    workerd: 0,
    wrangler: 0,
    database: 0,
    relay: 0,
    pooler: 0,
    loadGenerator: 0,
    machine: machineBusyMs(),
  };
  for (const p of descendants(stackPid, all)) {
    if (p.pid === stackPid) reading[serverDatabase ? 'relay' : 'database'] += own(p);
    else if (p.comm.startsWith('workerd')) reading.workerd += own(p);
    else if (p.comm === 'pgbouncer') reading.pooler += own(p);
    else reading.wrangler += own(p);
  }
  if (serverDatabase) {
    for (const p of all.filter((p) => p.comm === 'postgres')) {
      reading.database += own(p);
    }
  }
  const usage = process.cpuUsage();
  reading.loadGenerator = (usage.user + usage.system) / 1000;
  return reading;
}

/**
 * CPU of one database's backends, sampled every 100 ms from /proc: short-lived backends (a connection per
 * request) exit into the postmaster's reaped time, shared with every other session's, so they are followed
 * while they live. Those present at the start count from there, later ones from zero.
 */
class BackendSampler {
  readonly #database: string;
  readonly #backends = new Map<number, { ours: boolean; first: number; last: number }>();
  readonly #timer: NodeJS.Timeout;
  #initial = true;

  constructor(database: string) {
    this.#database = database;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), 100);
  }

  #sample(): void {
    for (const p of listProcesses()) {
      if (p.comm !== 'postgres') continue;
      const known = this.#backends.get(p.pid);
      if (known && !known.ours) continue;
      // Exact time (schedstat): stat's whole ticks would round a short backend's few ms down to nothing.
      const ms = cpuMsOf(p.pid);
      if (ms === undefined) continue;
      if (known) known.last = ms;
      else
        this.#backends.set(p.pid, {
          ours: isBackendOf(p.pid, this.#database),
          first: this.#initial ? ms : 0,
          last: ms,
        });
    }
    this.#initial = false;
  }

  /** CPU ms since the start. */
  stop(): number {
    this.#sample();
    clearInterval(this.#timer);
    let ms = 0;
    for (const b of this.#backends.values()) if (b.ours) ms += b.last - b.first;
    return ms;
  }
}

function isBackendOf(pid: number, database: string): boolean {
  try {
    return backendDatabase(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')) === database;
  } catch {
    return false; // exited meanwhile
  }
}

/** Busy time of all CPUs since boot (user + nice + system + irq + softirq + steal), from /proc/stat. */
function machineBusyMs(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] as string;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return (busy * 1000) / TICKS_PER_SECOND;
}

/**
 * The same rows the timed window stored, written straight into host_samples and custom_metric_points the way
 * storeBatch writes them (the sample without its `ts` as jsonb; a histogram's mean as its value and its
 * summary as jsonb), a day earlier so no key collides, `BULK_ROWS` rows per statement, one transaction each,
 * on two connections at once (the machine has two cores).
 */
async function bareInsert(
  databaseUrl: string,
  tenantId: string,
  hosts: BenchHost[],
  sent: Sent[],
): Promise<BareInsert> {
  const sampleRows: { host: string; ts: number; sample: string }[] = [];
  const customRows: {
    host: string;
    name: string;
    ts: number;
    kind: string;
    value: number;
    summary: string | null;
    labels: string;
  }[] = [];
  let values = 0;
  for (const batch of sent) {
    const host = hosts[batch.host] as BenchHost;
    for (const ts of batch.ts) {
      const { ts: _ts, ...stored } = host.sample(ts);
      values += samplePoints(host.sample(ts)).length;
      sampleRows.push({ host: host.id, ts: ts - DAY_MS, sample: JSON.stringify(stored) });
      for (const m of syntheticCustomMetrics(batch.host, ts)) {
        values += customPoints(m).length;
        customRows.push({
          host: host.id,
          name: m.name,
          ts: ts - DAY_MS,
          kind: m.kind,
          value: m.kind === 'histogram' ? m.hist.sum / m.hist.count : m.value,
          summary: m.kind === 'histogram' ? JSON.stringify(m.hist) : null,
          labels: JSON.stringify(m.labels ?? {}),
        });
      }
    }
  }
  const statements: { text: string; params: unknown[] }[] = [];
  for (let i = 0; i < sampleRows.length; i += BULK_ROWS) {
    const rows = sampleRows.slice(i, i + BULK_ROWS);
    statements.push({
      text: `INSERT INTO host_samples (tenant_id, host_id, ts, sample)
             SELECT $1, h, to_timestamp(t / 1000.0), s FROM unnest($2::uuid[], $3::float8[], $4::jsonb[]) AS r(h, t, s)`,
      params: [tenantId, rows.map((r) => r.host), rows.map((r) => r.ts), rows.map((r) => r.sample)],
    });
  }
  for (let i = 0; i < customRows.length; i += BULK_ROWS) {
    const rows = customRows.slice(i, i + BULK_ROWS);
    statements.push({
      text: `INSERT INTO custom_metric_points (tenant_id, host_id, name, ts, kind, value, summary, labels)
             SELECT $1, h, n, to_timestamp(t / 1000.0), k::metric_kind, v, s, l
             FROM unnest($2::uuid[], $3::text[], $4::float8[], $5::text[], $6::float8[], $7::jsonb[], $8::jsonb[]) AS r(h, n, t, k, v, s, l)`,
      params: [
        tenantId,
        rows.map((r) => r.host),
        rows.map((r) => r.name),
        rows.map((r) => r.ts),
        rows.map((r) => r.kind),
        rows.map((r) => r.value),
        rows.map((r) => r.summary),
        rows.map((r) => r.labels),
      ],
    });
  }
  const connections = 2;
  const sessions = await Promise.all(Array.from({ length: connections }, () => openSqlSession(databaseUrl)));
  try {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      sessions.map(async (session) => {
        while (next < statements.length) {
          const statement = statements[next++] as { text: string; params: unknown[] };
          await session.client.query(statement.text, statement.params);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return {
      sampleRows: sampleRows.length,
      customRows: customRows.length,
      values,
      seconds,
      valuesPerSecond: values / seconds,
      connections,
    };
  } finally {
    await Promise.all(sessions.map((s) => s.end()));
  }
}
