/**
 * Ingest throughput: `hosts` enrolled hosts push signed, gzip'd batches shaped like the agent's idle push
 * (three 10 s samples of this machine, re-stamped, and the synthetic host's custom metrics for each) through
 * the whole path (signature, validation, the Postgres transaction, the tenant object), `concurrency` requests
 * in flight, a host never twice at once, for a fixed time after a warm-up. The baseline is the same rows
 * bulk-inserted straight into the same landing tables of the same Postgres, in the same run.
 *
 * Or, on the socket path (ingest-paths.ts), the same batches signed over their uncompressed JSON and sent as
 * `batch` messages on each host's control socket, up to `inFlightPerSocket` unanswered per socket, each counted
 * once its `ack` arrives; the same hosts, window, CPU accounting and baseline.
 */
import fs from 'node:fs';
import {
  ApiErrorBody,
  CONTROL_BATCH_ANSWER_TIMEOUT_MS,
  CONTROL_MAX_BATCHES_IN_FLIGHT,
  type CustomMetric,
  customPoints,
  IngestResponse,
  type Sample,
  samplePoints,
} from '@pulsewire/protocol';
import { openSqlSession } from '@pulsewire/stack';
import { syntheticCustomMetrics } from '@pulsewire/stack/synthetic';
import { BenchControlSocket, type ControlAnswer } from './control-socket.ts';
import { InFlightWindow, type IngestPath } from './ingest-paths.ts';
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
  /** How batches travel (ingest-paths.ts): signed HTTP POSTs (the default), or `batch` messages on control sockets. */
  path?: IngestPath;
  /** On the socket path: batches each socket keeps unanswered (default and most: CONTROL_MAX_BATCHES_IN_FLIGHT). */
  inFlightPerSocket?: number;
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
  path: IngestPath;
  hosts: number;
  samplesPerBatch: number;
  /** Batches in flight at most: the POSTs at once, or on the socket path hosts × `inFlightPerSocket`. */
  concurrency: number;
  inFlightPerSocket?: number;
  seconds: number;
  batches: number;
  samples: number;
  customPoints: number;
  /** Metric values stored: every sample's series points plus every custom metric's (a histogram is 7). */
  values: number;
  valuesPerSecond: number;
  batchesPerSecond: number;
  valuesPerBatch: number;
  /** On the wire per batch: the gzip'd body of a POST, or the whole `batch` message on a socket (uncompressed). */
  wireBytesPerBatch: number;
  jsonBytesPerBatch: number;
  /**
   * Send to answer: the POST round trip, or a `batch` message's send to its `ack` (gzip and signing happen
   * before the clock starts, on both paths).
   */
  answerMs: Distribution;
  /**
   * Batches sent in the window and not stored, by why: `status code` of a refused POST or a `nack` (e.g.
   * `429 rate_limited`), `socket closed <code>`, `unanswered` (no answer within CONTROL_BATCH_ANSWER_TIMEOUT_MS
   * of the window's end), `accepted n of m`.
   */
  refused: Record<string, number>;
  /**
   * On the socket path: sockets the server closed during the run, by code and reason (e.g. `1008 more than 32
   * batches unanswered`); that host sends nothing more, and its unanswered batches are counted in `refused`.
   */
  socketsClosed?: Record<string, number>;
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
  /**
   * CPU per batch of the timed window's rows (its stored batches, in statements of BULK_ROWS): the PostgreSQL
   * server's backends of this database (server only), and the bench process that sends the statements.
   */
  cpuPerBatch: { database?: number; client: number };
}

interface Sent {
  host: number;
  ts: number[];
}

/** What every path needs before its first batch: the enrolled hosts, and each host's last sample time. */
export interface IngestFleet {
  hosts: BenchHost[];
  tenantId: string;
  /** The last `ts` sent per host, across paths, so no two batches of a host share a sample time. */
  lastTs: number[];
}

/** Enrolls `count` hosts with the real agent CLI, once for every path a run measures. */
export async function enrollFleet(
  tenant: BenchTenant,
  stack: { databaseUrl: string },
  count: number,
  log: (line: string) => void,
): Promise<IngestFleet> {
  const hosts = await enrollMany(tenant, count, log);
  const tenantId = await tenantIdOf(stack.databaseUrl, hosts[0]?.id as string);
  return { hosts, tenantId, lastTs: hosts.map(() => 0) };
}

/** Enrolls `options.hosts` hosts, then measures one path (HTTP unless `options.path` says otherwise). */
export async function runIngest(
  tenant: BenchTenant,
  stack: { pid: number; databaseUrl: string },
  options: IngestOptions,
): Promise<IngestRun> {
  return runIngestPath(await enrollFleet(tenant, stack, options.hosts, options.log), stack, options);
}

interface Batch {
  samples: Sample[];
  metrics: CustomMetric[];
  ts: number[];
}

/** Where one path's stored batches are counted (only those sent in the timed window and answered in it). */
class Tally {
  readonly sent: Sent[] = [];
  readonly answers: number[] = [];
  readonly refused: Record<string, number> = {};
  /** Sockets the server closed while the bench still used them, by code and reason. */
  readonly socketsClosed: Record<string, number> = {};
  /** What was stored, counted in values once the window is over (samplePoints per answer was the load generator's). */
  readonly #storedBatches: Batch[] = [];
  samples = 0;
  custom = 0;
  wireBytes = 0;
  jsonBytes = 0;

  /** Metric values stored: every sample's series points plus every custom metric's (a histogram is 7). */
  get values(): number {
    this.#values ??= this.#storedBatches.reduce((n, batch) => n + valuesOf(batch.samples, batch.metrics), 0);
    return this.#values;
  }
  #values: number | undefined;

  refuse(why: string, n = 1): void {
    this.refused[why] = (this.refused[why] ?? 0) + n;
  }

  stored(host: number, batch: Batch, accepted: number, tookMs: number, wireBytes: number, jsonBytes: number): void {
    const rows = batch.samples.length + batch.metrics.length;
    if (accepted !== rows) this.refuse(`accepted ${accepted} of ${rows}`);
    this.answers.push(tookMs);
    this.sent.push({ host, ts: batch.ts });
    this.#storedBatches.push(batch);
    this.#values = undefined;
    this.samples += batch.samples.length;
    this.custom += batch.metrics.length;
    this.wireBytes += wireBytes;
    this.jsonBytes += jsonBytes;
  }
}

const valuesOf = (samples: Sample[], metrics: CustomMetric[]) =>
  samples.reduce((n, s) => n + samplePoints(s).length, 0) + metrics.reduce((n, m) => n + customPoints(m).length, 0);

/** `status code` of a refused HTTP push, from its error body when it has one. */
function refusalOf(status: number, text: string): string {
  try {
    const body = ApiErrorBody.safeParse(JSON.parse(text));
    if (body.success) return `${status} ${body.data.error.code}`;
  } catch {
    // not JSON: the status alone
  }
  return String(status);
}

/**
 * The timed window both paths share: a warm-up, then `seconds` in which what is sent counts, CPU read at its
 * start and once the last answer is in.
 */
class TimedWindow {
  measuring = false;
  ends = Number.POSITIVE_INFINITY;
  startedAt = 0;
  readonly #warmupEnds = performance.now() + WARMUP_MS;
  #before: CpuReading | undefined;
  #backends: BackendSampler | undefined;
  #nextSlot = performance.now();
  readonly #stackPid: number;
  readonly #options: IngestOptions;

  constructor(stackPid: number, options: IngestOptions) {
    this.#stackPid = stackPid;
    this.#options = options;
  }

  /** Before each send: paces when asked to, opens the window after the warm-up; false once it is over. */
  async next(): Promise<boolean> {
    const rate = this.#options.ratePerSecond;
    if (rate) {
      const slot = this.#nextSlot;
      this.#nextSlot += 1000 / rate;
      const wait = slot - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const now = performance.now();
    if (!this.measuring && now >= this.#warmupEnds) this.#start();
    return now < this.ends;
  }

  #start(): void {
    const o = this.#options;
    if (o.serverDatabase) this.#backends = new BackendSampler(o.serverDatabase);
    this.#before = readCpu(this.#stackPid, o.serverDatabase);
    this.startedAt = performance.now();
    this.ends = this.startedAt + o.seconds * 1000;
    this.measuring = true;
  }

  /** Once every answer is in (or given up on): the window's CPU by process. */
  finish(): { before: CpuReading; after: CpuReading; backendsMs: number | undefined } {
    const after = readCpu(this.#stackPid, this.#options.serverDatabase);
    const backendsMs = this.#backends?.stop();
    return { before: this.#before as CpuReading, after, backendsMs };
  }
}

/** Measures one path on hosts already enrolled: the first `options.hosts` of the fleet. */
export async function runIngestPath(
  fleet: IngestFleet,
  stack: { pid: number; databaseUrl: string },
  options: IngestOptions,
): Promise<IngestRun> {
  const path: IngestPath = options.path ?? 'http';
  if (options.hosts > fleet.hosts.length) {
    throw new Error(`${options.hosts} hosts asked for, ${fleet.hosts.length} enrolled`);
  }
  const hosts = fleet.hosts.slice(0, options.hosts);
  const perBatch = options.samplesPerBatch ?? SAMPLES_PER_BATCH;
  const batchOf = (index: number): Batch => {
    const host = hosts[index] as BenchHost;
    const ts: number[] = [];
    for (let i = 0; i < perBatch; i++) {
      // Unique per host, close to now (an old hour would be marked late for compaction, a future one refused).
      const next = Math.max((fleet.lastTs[index] as number) + 1, Date.now() - (perBatch - i));
      fleet.lastTs[index] = next;
      ts.push(next);
    }
    return {
      samples: ts.map((t) => host.sample(t)),
      metrics: ts.flatMap((t) => syntheticCustomMetrics(index, t)),
      ts,
    };
  };

  const tally = new Tally();
  const inFlightPerSocket = options.inFlightPerSocket ?? CONTROL_MAX_BATCHES_IN_FLIGHT;
  const concurrency = path === 'http' ? options.concurrency : hosts.length * inFlightPerSocket;
  const sockets = path === 'socket' ? await openSockets(hosts, options.log) : undefined;
  options.log(
    path === 'http'
      ? `  ${hosts.length} hosts over HTTP; ${WARMUP_MS / 1000} s warm-up, then ${options.seconds} s timed, ${options.concurrency} in flight`
      : `  ${hosts.length} hosts over their control sockets; ${WARMUP_MS / 1000} s warm-up, then ${options.seconds} s timed, up to ${inFlightPerSocket} in flight per socket`,
  );
  const window = new TimedWindow(stack.pid, options);
  let endedAt: number;
  try {
    await options.load?.started();
    if (sockets) {
      sockets.start(window, tally, batchOf, inFlightPerSocket);
      endedAt = await sockets.finish();
    } else {
      await driveHttp(hosts, window, tally, batchOf, options.concurrency);
      endedAt = performance.now();
    }
  } catch (error) {
    await sockets?.close();
    throw error;
  }
  if (!window.startedAt) {
    await sockets?.close();
    throw new Error(
      path === 'socket'
        ? `no timed window: every socket was closed in the warm-up (${JSON.stringify(tally.socketsClosed)})`
        : `no timed window (${JSON.stringify(tally.refused)})`,
    );
  }
  const { before: start, after, backendsMs } = window.finish();
  await options.load?.ended();
  window.measuring = false;
  await sockets?.close();
  const elapsedMs = endedAt - window.startedAt;
  const batches = tally.answers.length;
  const share = (ms: number): CpuShare => ({
    ms,
    msPerBatch: batches ? ms / batches : Number.NaN,
    pct: (ms / elapsedMs) * 100,
  });

  options.log(
    `  timed: ${batches} batches, ${tally.values} values in ${(elapsedMs / 1000).toFixed(1)} s; bare insert of the same rows`,
  );
  const baseline = await bareInsert(stack.databaseUrl, fleet.tenantId, hosts, tally.sent, options.serverDatabase);
  return {
    path,
    hosts: hosts.length,
    samplesPerBatch: perBatch,
    concurrency,
    ...(path === 'socket' ? { inFlightPerSocket } : {}),
    seconds: elapsedMs / 1000,
    batches,
    samples: tally.samples,
    customPoints: tally.custom,
    values: tally.values,
    valuesPerSecond: tally.values / (elapsedMs / 1000),
    batchesPerSecond: batches / (elapsedMs / 1000),
    valuesPerBatch: batches ? tally.values / batches : Number.NaN,
    wireBytesPerBatch: batches ? tally.wireBytes / batches : Number.NaN,
    jsonBytesPerBatch: batches ? tally.jsonBytes / batches : Number.NaN,
    answerMs: distribution(tally.answers),
    refused: tally.refused,
    ...(path === 'socket' ? { socketsClosed: tally.socketsClosed } : {}),
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

/** `concurrency` POSTs in flight, a host never twice at once (its seqs must arrive in order). */
async function driveHttp(
  hosts: BenchHost[],
  window: TimedWindow,
  tally: Tally,
  batchOf: (index: number) => Batch,
  concurrency: number,
): Promise<void> {
  const idle = hosts.map((_, i) => i);
  const pushOne = async (): Promise<void> => {
    const index = idle.shift();
    if (index === undefined) return void (await new Promise((resolve) => setTimeout(resolve, 1)));
    try {
      const batch = batchOf(index);
      const host = hosts[index] as BenchHost;
      const prepared = host.prepare(batch.samples, batch.metrics);
      const counted = window.measuring;
      const started = performance.now();
      const answer = await host.send(prepared);
      const took = performance.now() - started;
      if (!counted || !window.measuring) return;
      if (answer.status !== 200) return tally.refuse(refusalOf(answer.status, answer.text));
      const body = IngestResponse.parse(JSON.parse(answer.text));
      tally.stored(index, batch, body.accepted, took, prepared.body.length, prepared.jsonBytes);
    } finally {
      idle.push(index);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, hosts.length) }, async () => {
      while (await window.next()) await pushOne();
    }),
  );
}

const SOCKET_OPEN_CONCURRENCY = 8;

/** Opens every host's control socket (a few upgrades at a time), each accepted before the first batch. */
async function openSockets(hosts: BenchHost[], log: (line: string) => void): Promise<SocketFleet> {
  const fleet = new SocketFleet(hosts);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(SOCKET_OPEN_CONCURRENCY, hosts.length) }, async () => {
      while (next < hosts.length) {
        const index = next++;
        await fleet.open(index);
      }
    }),
  );
  log(`  ${hosts.length} control sockets open`);
  return fleet;
}

interface Outstanding {
  batch: Batch;
  counted: boolean;
  wireBytes: number;
  jsonBytes: number;
}

/**
 * Every host's control socket with its window of unanswered batches: each host sends as long as its window has
 * room (and the timed window lasts), and sends again as answers come.
 */
class SocketFleet {
  readonly #hosts: BenchHost[];
  readonly #sockets: (BenchControlSocket | undefined)[];
  readonly #windows: InFlightWindow[] = [];
  readonly #outstanding: Map<string, Outstanding>[];
  /** Per host: resolves the pump waiting for room. */
  readonly #wake: ((() => void) | undefined)[];
  #pumps: Promise<void>[] = [];
  #window: TimedWindow | undefined;
  #tally: Tally | undefined;
  #lastAnswerAt = 0;
  #drained: (() => void) | undefined;
  #unexpectedAnswers = 0;

  constructor(hosts: BenchHost[]) {
    this.#hosts = hosts;
    this.#sockets = hosts.map(() => undefined);
    this.#outstanding = hosts.map(() => new Map());
    this.#wake = hosts.map(() => undefined);
  }

  async open(index: number): Promise<void> {
    const host = this.#hosts[index] as BenchHost;
    this.#sockets[index] = await BenchControlSocket.open(host, await host.controlHeaders(), {
      answer: (message, at) => this.#answered(index, message, at),
      closed: (code, reason) => this.#closed(index, code, reason),
    });
  }

  start(window: TimedWindow, tally: Tally, batchOf: (index: number) => Batch, cap: number): void {
    this.#window = window;
    this.#tally = tally;
    for (let i = 0; i < this.#hosts.length; i++) this.#windows[i] = new InFlightWindow(cap);
    this.#pumps = this.#hosts.map((_, index) => this.#pump(index, batchOf));
  }

  async #pump(index: number, batchOf: (index: number) => Batch): Promise<void> {
    const host = this.#hosts[index] as BenchHost;
    const inFlight = this.#windows[index] as InFlightWindow;
    const window = this.#window as TimedWindow;
    for (;;) {
      const socket = this.#sockets[index];
      if (!socket?.open) return;
      if (inFlight.room === 0) {
        await new Promise<void>((resolve) => {
          this.#wake[index] = resolve;
        });
        if (performance.now() >= window.ends) return;
        continue;
      }
      if (!(await window.next())) return;
      const batch = batchOf(index);
      const prepared = host.prepareControl(batch.samples, batch.metrics);
      if (!socket.open) return;
      inFlight.sent(prepared.batchId, performance.now());
      (this.#outstanding[index] as Map<string, Outstanding>).set(prepared.batchId, {
        batch,
        counted: window.measuring,
        wireBytes: prepared.messageBytes,
        jsonBytes: prepared.jsonBytes,
      });
      socket.send(prepared.message);
    }
  }

  #answered(index: number, message: ControlAnswer, at: number): void {
    const outstanding = this.#outstanding[index] as Map<string, Outstanding>;
    const sent = outstanding.get(message.batch_id);
    const took = this.#windows[index]?.answered(message.batch_id, at);
    if (!sent || took === undefined) {
      this.#unexpectedAnswers++;
      return;
    }
    outstanding.delete(message.batch_id);
    const tally = this.#tally as Tally;
    if (sent.counted && this.#window?.measuring) {
      this.#lastAnswerAt = at;
      if (message.type === 'nack') tally.refuse(`${message.status} ${message.error.code}`);
      else if (message.duplicate) tally.refuse('duplicate');
      else tally.stored(index, sent.batch, message.accepted, took, sent.wireBytes, sent.jsonBytes);
    }
    this.#woken(index);
  }

  #closed(index: number, code: number, reason: string): void {
    const outstanding = this.#outstanding[index] as Map<string, Outstanding>;
    const lost = [...outstanding.values()].filter((o) => o.counted).length;
    const why = `${code}${reason ? ` ${reason}` : ''}`;
    if (lost) this.#tally?.refuse(`socket closed ${why}`, lost);
    const closed = (this.#tally as Tally).socketsClosed;
    closed[why] = (closed[why] ?? 0) + 1;
    outstanding.clear();
    this.#windows[index]?.abandon();
    this.#woken(index);
  }

  #woken(index: number): void {
    const wake = this.#wake[index];
    this.#wake[index] = undefined;
    wake?.();
    if (this.#drained && this.#outstandingCount() === 0) this.#drained();
  }

  #outstandingCount(): number {
    return this.#outstanding.reduce((n, m) => n + m.size, 0);
  }

  /**
   * Once the timed window is over (every pump stopped sending): waits for the answers still due, for as long as
   * the agent would (CONTROL_BATCH_ANSWER_TIMEOUT_MS); those that do not come are counted `unanswered`. Answers
   * the moment the last counted answer arrived, the window's end.
   */
  async finish(): Promise<number> {
    // Until the timed window is over (or every pump has stopped: every socket closed), then wake the pumps that
    // wait for room, so none waits on an answer that may never come.
    const window = this.#window as TimedWindow;
    let stopped = false;
    const pumps = Promise.all(this.#pumps).then(() => {
      stopped = true;
    });
    while (!stopped) {
      const left = window.ends - performance.now();
      if (left <= 0) break;
      await Promise.race([pumps, new Promise((resolve) => setTimeout(resolve, Number.isFinite(left) ? left : 100))]);
    }
    for (let i = 0; i < this.#wake.length; i++) {
      const wake = this.#wake[i];
      this.#wake[i] = undefined;
      wake?.();
    }
    await pumps;
    if (this.#outstandingCount() > 0) {
      const drained = new Promise<boolean>((resolve) => {
        this.#drained = () => resolve(true);
      });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), CONTROL_BATCH_ANSWER_TIMEOUT_MS);
      });
      const allAnswered = await Promise.race([drained, timedOut]);
      clearTimeout(timer);
      this.#drained = undefined;
      if (!allAnswered) {
        for (const outstanding of this.#outstanding) {
          const lost = [...outstanding.values()].filter((o) => o.counted).length;
          if (lost) this.#tally?.refuse('unanswered', lost);
          outstanding.clear();
        }
        for (const w of this.#windows) w.abandon();
      }
    }
    if (this.#unexpectedAnswers) this.#tally?.refuse('answer to no batch in flight', this.#unexpectedAnswers);
    const unknown = this.#sockets.reduce((n, s) => n + (s?.unknownMessages ?? 0), 0);
    if (unknown) this.#tally?.refuse('unknown message', unknown);
    return this.#lastAnswerAt || performance.now();
  }

  /** Closes every socket with 1000 (after the window's CPU was read). */
  async close(): Promise<void> {
    await Promise.all(this.#sockets.map((s) => s?.close()));
  }
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
  serverDatabase?: string,
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
    const backends = serverDatabase ? new BackendSampler(serverDatabase) : undefined;
    const clientBefore = process.cpuUsage();
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
    const client = process.cpuUsage(clientBefore);
    const databaseMs = backends?.stop();
    return {
      sampleRows: sampleRows.length,
      customRows: customRows.length,
      values,
      seconds,
      valuesPerSecond: values / seconds,
      connections,
      cpuPerBatch: {
        client: (client.user + client.system) / 1000 / Math.max(1, sent.length),
        ...(databaseMs !== undefined ? { database: databaseMs / Math.max(1, sent.length) } : {}),
      },
    };
  } finally {
    await Promise.all(sessions.map((s) => s.end()));
  }
}
