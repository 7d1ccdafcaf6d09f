import type { ServerMessage } from '@pulsewire/protocol';
import { LiveClient } from './live-client.ts';
import { cpuBetween, type ProcessCpu, treeCpu } from './process-cpu.ts';
import { type Distribution, distribution } from './stats.ts';
import type { BenchTenant } from './tenant.ts';

/** The Worker's default allowance per user or key (STREAM_MAX_CONNECTIONS_PER_USER): one read key per this many sockets. */
const SOCKETS_PER_KEY = 50;
const OPEN_CONCURRENCY = 16;
/** Upgrades refused on the way (e.g. the embedded Postgres answering slowly under the connection storm) are retried. */
const OPEN_ATTEMPTS = 5;

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
  /** Each batch's own delivery delays, in push order: a slow first batch reads differently from a slow stream. */
  perBatchMs: Distribution[];
}

/**
 * `sockets` dashboards watch one host; the host pushes `batches` batches a second apart. Each batch's
 * samples carry a unique timestamp, so every socket's receipt of every batch is accounted for, with its
 * delay from the moment the push started.
 */
export async function runFanout(
  tenant: BenchTenant,
  options: { sockets: number; batches: number; log: (line: string) => void; stackPid?: number | undefined },
): Promise<FanoutRun> {
  const host = await tenant.enrollHost(`fanout-${options.sockets}`);
  const keys: string[] = [];
  for (let i = 0; i * SOCKETS_PER_KEY < options.sockets; i++) keys.push(await tenant.createKey('read', `fanout ${i}`));

  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  const byBatch = new Map<number, number[]>();
  const seen = new Set<string>();
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
    const onFrame = (m: ServerMessage, at: number) => {
      if (m.type === 'subscribed') subscribed();
      if (m.type !== 'metrics') return;
      for (const sample of m.samples) {
        const started = sentAt.get(sample.ts);
        const key = `${index}:${sample.ts}`;
        if (started === undefined || seen.has(key)) continue;
        seen.add(key);
        latencies.push(at - started);
        const list = byBatch.get(sample.ts) ?? [];
        list.push(at - started);
        byBatch.set(sample.ts, list);
      }
    };
    const key = keys[Math.floor(index / SOCKETS_PER_KEY)] as string;
    let client: LiveClient | undefined;
    for (let attempt = 1; !client; attempt++) {
      try {
        client = await LiveClient.open(tenant.url, key, onFrame);
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
  for (let b = 0; b < options.batches; b++) {
    const started = performance.timeOrigin + performance.now();
    const ts = Math.round(started) + b; // unique per batch even within one millisecond
    sentAt.set(ts, started);
    await host.push([host.sample(ts)]);
    // A second apart from start to start, as an agent at the live cadence pushes, however long the answer took.
    await sleep(Math.max(0, 1000 - (performance.timeOrigin + performance.now() - started)));
  }
  // Bounded wait for stragglers: at most 10 s after the last push.
  const expected = clients.length * options.batches;
  for (let i = 0; i < 100 && latencies.length < expected; i++) await sleep(100);
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
    ...(cpuMs ? { cpuMs } : {}),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
