import { ACK_DELAY_MS, type ServerMessage } from '@pulsewire/protocol';
import { LiveClient, type MetricsReceipt } from './live-client.ts';
import { pacedPushes, spacings } from './paced-pushes.ts';
import { cpuBetween, type ProcessCpu, treeCpu } from './process-cpu.ts';
import { type Distribution, distribution } from './stats.ts';
import type { BenchTenant } from './tenant.ts';

/** The Worker's default allowance per user or key (STREAM_MAX_CONNECTIONS_PER_USER): one read key per this many sockets. */
const SOCKETS_PER_KEY = 50;
const OPEN_CONCURRENCY = 16;
/** Upgrades refused on the way (e.g. the embedded Postgres answering slowly under the connection storm) are retried. */
const OPEN_ATTEMPTS = 5;
/** Pushes outstanding at once on the fixed schedule: an agent's next push does not wait for the last answer. */
const MAX_IN_FLIGHT = 4;
/** How long after the last push started the run waits for stragglers. */
const STRAGGLER_WAIT_MS = 30_000;

export interface FanoutRun {
  sockets: number;
  /** Sockets that opened and subscribed; the run goes on with these when the rest cannot open. */
  opened: number;
  /** Why opening stopped short of `sockets`, if it did. */
  openError?: string;
  batches: number;
  delivered: number;
  expected: number;
  closedEarly: number;
  openSeconds: number;
  openRetries: number;
  latencyMs: Distribution;
  /**
   * CPU spent while the batches were pushed and delivered (from the first push to the last receipt or the
   * end of the wait): each process of the stack (`workerd` ×2 under wrangler dev: the Worker with its objects,
   * and the dev proxy; `node`: wrangler, and the embedded Postgres with its relay), and this bench's own
   * client (`bench client`). Linux only.
   */
  cpuMs?: ProcessCpu[];
  /** Acks the clients sent while the batches were delivered (the object handles each one). */
  acks: number;
  /** The clients' ack delay (ms). */
  ackDelayMs: number;
  /** Whether the clients offered permessage-deflate (as browsers do); off unless asked (live-client.ts). */
  compression: boolean;
  /** Each batch's own delivery delays, in push order: a slow first batch reads differently from a slow stream. */
  perBatchMs: Distribution[];
  /** `fixed`: pushes start on a 1 s schedule, up to 4 in flight; `answers`: each waits for the last answer. */
  pacing: 'fixed' | 'answers';
  /** Start-to-start spacing of the pushes (ms): 1,000 when the schedule held. */
  spacingMs: Distribution;
  /** Pushes that started more than 100 ms after their slot (held back by the in-flight bound or the answers). */
  lateStarts: number;
  maxInFlight: number;
  /** Ingest answers, start to answer (ms); failed pushes are counted apart. */
  answerMs: Distribution;
  failedPushes: number;
  /** From the first push's start to the last receipt (or the end of the wait): what `cpuMs` was spent over. */
  windowSeconds: number;
}

/**
 * `sockets` dashboards watch one host; the host pushes `batches` batches on a fixed 1 s schedule (start to
 * start, whether or not the last answer came: an agent at the live cadence does not wait either), or, with
 * `waitForAnswers`, each after the last answer, as this bench did before. Each batch's samples carry a unique
 * timestamp, so every socket's receipt of every batch is accounted for, with its delay from the moment the
 * push started.
 */
export async function runFanout(
  tenant: BenchTenant,
  options: {
    sockets: number;
    batches: number;
    log: (line: string) => void;
    stackPid?: number | undefined;
    waitForAnswers?: boolean;
    /** The clients' ack delay (ms); the protocol's `ACK_DELAY_MS` unless given. */
    ackDelayMs?: number | undefined;
    /** Offer permessage-deflate as browsers do (off by default: live-client.ts says why). */
    compression?: boolean | undefined;
  },
): Promise<FanoutRun> {
  const host = await tenant.enrollHost(`fanout-${options.sockets}`);
  const keys: string[] = [];
  for (let i = 0; i * SOCKETS_PER_KEY < options.sockets; i++) keys.push(await tenant.createKey('read', `fanout ${i}`));

  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  const byBatch = new Map<number, number[]>();
  const clients: LiveClient[] = [];
  const openStarted = performance.now();
  let next = 0;
  let openRetries = 0;
  let openError: string | undefined;
  const openOne = async (index: number) => {
    let subscribed: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      subscribed = resolve;
    });
    const onFrame = (m: ServerMessage) => {
      if (m.type === 'subscribed') subscribed();
    };
    // The batches (sample timestamps) this socket has received: each is counted once.
    const seen = new Set<number>();
    const onMetrics = ({ timestamps }: MetricsReceipt, at: number) => {
      for (const ts of timestamps) {
        const started = sentAt.get(ts);
        if (started === undefined || seen.has(ts)) continue;
        seen.add(ts);
        latencies.push(at - started);
        const list = byBatch.get(ts) ?? [];
        list.push(at - started);
        byBatch.set(ts, list);
      }
    };
    const key = keys[Math.floor(index / SOCKETS_PER_KEY)] as string;
    let client: LiveClient | undefined;
    for (let attempt = 1; !client; attempt++) {
      try {
        client = await LiveClient.open(tenant.url, key, onFrame, {
          ackDelayMs: options.ackDelayMs,
          compression: options.compression ?? false,
          onMetrics,
        });
      } catch (error) {
        if (attempt === OPEN_ATTEMPTS) throw error;
        openRetries++;
        await sleep(250 * 2 ** attempt);
      }
    }
    client.send({ type: 'subscribe', id: 'bench', hosts: [host.id], streams: ['metrics'] });
    const answered = await Promise.race([ready.then(() => true), sleep(15_000).then(() => false)]);
    if (!answered) {
      client.close();
      throw new Error(`socket ${index} got no answer to its subscribe within 15 s`);
    }
    clients.push(client);
  };
  await Promise.all(
    Array.from({ length: Math.min(OPEN_CONCURRENCY, options.sockets) }, async () => {
      while (next < options.sockets && openError === undefined) {
        const index = next++;
        try {
          await openOne(index);
        } catch (error) {
          if (openError === undefined) {
            openError = `${error instanceof Error ? error.message : String(error)} (after ${clients.length} sockets)`;
            options.log(`  stopped opening: ${openError}`);
          }
          break;
        }
        if (clients.length % 1000 === 0) options.log(`  ${clients.length} sockets open`);
      }
    }),
  );
  const openSeconds = (performance.now() - openStarted) / 1000;

  const acksBefore = clients.reduce((sum, c) => sum + c.acksSent, 0);
  const cpuBefore = options.stackPid ? treeCpu(options.stackPid) : [];
  const ownBefore = process.cpuUsage();
  options.log(`  pushing ${options.batches} batches to ${clients.length} sockets`);
  const windowStart = performance.now();
  const paced = await pacedPushes({
    count: options.batches,
    intervalMs: 1000,
    maxInFlight: MAX_IN_FLIGHT,
    waitForAnswers: options.waitForAnswers ?? false,
    push: (b, started) => {
      const ts = Math.round(started) + b; // unique per batch even within one millisecond
      sentAt.set(ts, started);
      return host.push([host.sample(ts)]);
    },
  });
  const failed = paced.starts.find((s) => s.error !== undefined);
  if (failed) options.log(`  a push failed: ${failed.error}`);
  // Bounded wait for stragglers: at most STRAGGLER_WAIT_MS after the last push started.
  const expected = clients.length * options.batches;
  const lastStart = paced.starts.at(-1)?.startedAt ?? 0;
  while (latencies.length < expected && performance.timeOrigin + performance.now() - lastStart < STRAGGLER_WAIT_MS) {
    await sleep(100);
  }
  const windowSeconds = (performance.now() - windowStart) / 1000;
  const own = process.cpuUsage(ownBefore);
  const acks = clients.reduce((sum, c) => sum + c.acksSent, 0) - acksBefore;
  const cpuMs = options.stackPid
    ? [
        ...cpuBetween(cpuBefore, treeCpu(options.stackPid)),
        { pid: process.pid, name: 'bench client', cpuMs: Math.round((own.user + own.system) / 1000) },
      ]
    : undefined;
  const closedEarly = clients.filter((c) => c.closed !== null).length;
  for (const client of clients) client.close();
  return {
    sockets: options.sockets,
    opened: clients.length,
    ...(openError ? { openError } : {}),
    batches: options.batches,
    delivered: latencies.length,
    expected,
    closedEarly,
    openSeconds,
    openRetries,
    latencyMs: distribution(latencies),
    acks,
    perBatchMs: [...sentAt.keys()].map((ts) => distribution(byBatch.get(ts) ?? [])),
    pacing: options.waitForAnswers ? 'answers' : 'fixed',
    ackDelayMs: options.ackDelayMs ?? ACK_DELAY_MS,
    compression: options.compression ?? false,
    spacingMs: distribution(spacings(paced.starts)),
    lateStarts: paced.late,
    maxInFlight: paced.maxInFlight,
    answerMs: distribution(paced.starts.flatMap((s) => (s.answeredAt === null ? [] : [s.answeredAt - s.startedAt]))),
    failedPushes: paced.starts.filter((s) => s.error !== undefined).length,
    windowSeconds,
    ...(cpuMs ? { cpuMs } : {}),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
