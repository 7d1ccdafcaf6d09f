import { LiveClient } from './live-client.ts';
import { parseServerTiming } from './server-timing.ts';
import { type Distribution, distribution } from './stats.ts';
import type { BenchTenant } from './tenant.ts';

export interface LatencyRun {
  pushes: number;
  /** From the start of a signed ingest POST to the watching socket's receipt of the sample. */
  agentToDashboardMs: Distribution;
  /** Baseline: a `GET /api/v1/health` round trip on the same stack (Worker + one Postgres query). */
  healthRoundTripMs: Distribution;
  /** The ingest POST's own round trip, as the agent sees it. */
  ingestRoundTripMs: Distribution;
  /** Where the Worker spent the ingest request, phase by phase (its `Server-Timing` header). */
  ingestPhasesMs: Record<string, Distribution>;
}

/** Pushes before measuring: the first requests pay for workerd's and Postgres' cold paths. */
const WARMUP_PUSHES = 10;

/** One host watched live by one socket; `pushes` batches of one sample, one at a time (after a warm-up). */
export async function runLatency(tenant: BenchTenant, options: { pushes: number }): Promise<LatencyRun> {
  const host = await tenant.enrollHost('latency');
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
    await host.push([host.sample(ts)]);
    ingest.push(performance.timeOrigin + performance.now() - started);
    if (i >= 0) {
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
  // The warm-up's figures are the first ones recorded; drop them.
  latencies.splice(0, latencies.length - options.pushes);
  health.splice(0, WARMUP_PUSHES);
  ingest.splice(0, WARMUP_PUSHES);
  return {
    pushes: options.pushes,
    agentToDashboardMs: distribution(latencies),
    healthRoundTripMs: distribution(health),
    ingestRoundTripMs: distribution(ingest),
    ingestPhasesMs: Object.fromEntries([...phases].map(([name, list]) => [name, distribution(list)])),
  };
}
