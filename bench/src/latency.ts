import { BenchControlSocket, type ControlAnswer } from './control-socket.ts';
import type { IngestPath } from './ingest-paths.ts';
import { LiveClient } from './live-client.ts';
import { parseServerTiming } from './server-timing.ts';
import { type Distribution, distribution } from './stats.ts';
import type { BenchTenant } from './tenant.ts';

export interface LatencyRun {
  pushes: number;
  /** How the batches went: signed POSTs, or `batch` messages on the host's control socket (as the agent sends them). */
  path: IngestPath;
  /** From the start of a signed ingest POST (or the socket message's send) to the watching socket's receipt. */
  agentToDashboardMs: Distribution;
  /** Baseline: a `GET /api/v1/health` round trip on the same stack (Worker + one Postgres query). */
  healthRoundTripMs: Distribution;
  /** The ingest POST's own round trip (on the socket: the message to its `ack`), as the agent sees it. */
  ingestRoundTripMs: Distribution;
  /** Where the Worker spent the ingest request, phase by phase (its `Server-Timing` header; HTTP only). */
  ingestPhasesMs: Record<string, Distribution>;
}

/** Pushes before measuring: the first requests pay for workerd's and Postgres' cold paths. */
const WARMUP_PUSHES = 10;

/**
 * One host watched live by one socket; `pushes` batches of one sample, one at a time (after a warm-up), as signed
 * POSTs or on the host's control socket.
 */
export async function runLatency(
  tenant: BenchTenant,
  options: { pushes: number; path?: IngestPath },
): Promise<LatencyRun> {
  const path = options.path ?? 'http';
  const host = await tenant.enrollHost(`latency-${path}`);
  const key = await tenant.createKey('read', 'latency');
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let arrived: () => void = () => {};
  let subscribed: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    subscribed = resolve;
  });
  const client = await LiveClient.open(tenant.url, key, (m, at) => {
    if (m.type === 'subscribed') subscribed();
    if (m.type !== 'metrics') return;
    for (const sample of m.samples) {
      const started = sentAt.get(sample.ts);
      if (started === undefined) continue;
      sentAt.delete(sample.ts);
      latencies.push(at - started);
      arrived();
    }
  });
  client.send({ type: 'subscribe', id: 'bench', hosts: [host.id], streams: ['metrics'] });
  await ready;
  // On the socket path: each batch's answer, by batch id. A socket closed by the server fails the batch waiting
  // (and so the run) rather than throwing from the socket's event handler, which would end the process.
  const answers = new Map<string, { resolve(answer: ControlAnswer): void; reject(error: Error): void }>();
  const control =
    path === 'socket'
      ? await BenchControlSocket.open(host, await host.controlHeaders(), {
          answer: (message) => answers.get(message.batch_id)?.resolve(message),
          closed: (code, reason) => {
            const error = new Error(`the control socket closed during the latency run: ${code} ${reason}`);
            for (const waiting of answers.values()) waiting.reject(error);
          },
        })
      : undefined;

  const health: number[] = [];
  const ingest: number[] = [];
  const phases = new Map<string, number[]>();
  for (let i = -WARMUP_PUSHES; i < options.pushes; i++) {
    const t0 = performance.now();
    const res = await fetch(`${tenant.url}/api/v1/health`);
    await res.text();
    health.push(performance.now() - t0);

    const started = performance.timeOrigin + performance.now();
    const ts = Math.round(started);
    sentAt.set(ts, started);
    const received = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    if (control) {
      if (!control.open) throw new Error('the control socket closed during the latency run');
      const prepared = host.prepareControl([host.sample(ts)]);
      const answered = new Promise<ControlAnswer>((resolve, reject) =>
        answers.set(prepared.batchId, { resolve, reject }),
      );
      // The clock starts at the send (signing happens before it, as for the POST's gzip and signature below).
      const sent = performance.timeOrigin + performance.now();
      sentAt.set(ts, sent);
      control.send(prepared.message);
      const answer = await answered;
      answers.delete(prepared.batchId);
      if (answer.type !== 'ack') throw new Error(`the batch was refused: ${JSON.stringify(answer.error)}`);
      ingest.push(performance.timeOrigin + performance.now() - sent);
    } else {
      await host.push([host.sample(ts)]);
      ingest.push(performance.timeOrigin + performance.now() - started);
    }
    if (i >= 0 && !control) {
      for (const [name, ms] of Object.entries(parseServerTiming(host.lastServerTiming))) {
        const list = phases.get(name) ?? [];
        list.push(ms);
        phases.set(name, list);
      }
    }
    await Promise.race([received, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  client.close();
  await control?.close();
  // The warm-up's figures are the first ones recorded; drop them.
  latencies.splice(0, latencies.length - options.pushes);
  health.splice(0, WARMUP_PUSHES);
  ingest.splice(0, WARMUP_PUSHES);
  return {
    pushes: options.pushes,
    path,
    agentToDashboardMs: distribution(latencies),
    healthRoundTripMs: distribution(health),
    ingestRoundTripMs: distribution(ingest),
    ingestPhasesMs: Object.fromEntries([...phases].map(([name, list]) => [name, distribution(list)])),
  };
}
