import type { CustomMetric } from '@pulsewire/protocol';
import { gaussian, round, smooth, streamId, uniform } from './noise.ts';

/**
 * Custom application metrics of the synthetic host, one of each shape (issue 12: "Counters become rates.
 * Histograms keep their summaries."): a gauge (a queue's depth), a counter sent as increments per flush
 * interval (jobs processed, e-mails sent), and a histogram summary (request durations, ms), plus the
 * connection pool's use (a gauge). Like the host sample, a
 * function of (seed, ts) alone.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function activity(ts: number): number {
  const hour = (((ts % DAY) + DAY) % DAY) / HOUR;
  return 0.5 - 0.5 * Math.cos((2 * Math.PI * (hour - 3)) / 24);
}

/** The metrics an application would flush at `ts`, covering the `intervalMs` before it. */
export function syntheticCustomMetrics(seed: number, ts: number, intervalMs = 10_000): CustomMetric[] {
  const s = streamId;
  const level = activity(ts);
  const seconds = intervalMs / 1000;
  const depth = Math.max(0, Math.round(20 * level + 15 * smooth(seed, s('queue'), ts, 15 * MINUTE) - 5));
  const jobs = Math.round(seconds * (0.5 + 3 * level) * (0.5 + uniform(seed, s('jobs'), ts)));
  const requests = Math.max(1, Math.round(seconds * (20 + 80 * level) * (0.8 + 0.4 * uniform(seed, s('req'), ts))));
  const p50 = 12 + 5 * smooth(seed, s('req.p50'), ts, 30 * MINUTE) + 0.5 * gaussian(seed, s('req.p50n'), ts);
  const p99 = p50 * (4 + 2 * uniform(seed, s('req.p99'), ts));
  const pool = Math.min(50, Math.max(1, Math.round(4 + 30 * level + 4 * gaussian(seed, s('pool'), ts))));
  const emails = Math.round(seconds * 0.4 * level * (0.5 + uniform(seed, s('emails'), ts)));
  return [
    { kind: 'gauge', name: 'queue_depth', ts, labels: { queue: 'mail' }, value: depth },
    { kind: 'counter', name: 'jobs_processed', ts, labels: { worker: 'default' }, value: jobs },
    { kind: 'gauge', name: 'db_pool_in_use', ts, labels: { pool: 'main' }, value: pool },
    { kind: 'counter', name: 'emails_sent', ts, labels: { queue: 'mail' }, value: emails },
    {
      kind: 'histogram',
      name: 'http_request_ms',
      ts,
      labels: { route: '/api/orders' },
      hist: {
        count: requests,
        sum: round(requests * p50 * 1.3),
        min: round(p50 * 0.2),
        max: round(p99 * 1.6),
        p50: round(p50),
        p90: round(p50 * 2.2),
        p99: round(p99),
      },
    },
  ];
}
