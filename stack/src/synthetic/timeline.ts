import type { CustomMetric, Sample } from '@pulsewire/protocol';
import { syntheticCustomMetrics } from './custom-metrics.ts';
import { type SyntheticHostOptions, syntheticSample } from './host.ts';

/**
 * The times at which the agent would collect over a range: every `cadenceMs` (aligned to it, in UTC), and
 * every second inside live stretches (someone watching the host), as one ascending stream without repeats.
 */

export interface TimeStretch {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
}

export interface SyntheticRange extends TimeStretch, SyntheticHostOptions {
  /** Collection interval outside live stretches, ms (default 10 s, as the agent's default cadence). */
  cadenceMs?: number;
  /** Stretches collected every second. */
  live?: readonly TimeStretch[];
}

const LIVE_CADENCE_MS = 1000;

const alignUp = (ts: number, step: number) => Math.ceil(ts / step) * step;

export function* syntheticTimestamps(range: SyntheticRange): Generator<number> {
  const cadence = range.cadenceMs ?? 10_000;
  if (!Number.isInteger(cadence) || cadence <= 0)
    throw new RangeError(`cadence ${cadence} ms is not a positive integer`);
  const live = [...(range.live ?? [])].sort((a, b) => a.from - b.from);
  let stretch = 0;
  /** The first live time ≥ cursor, or Infinity. */
  const nextLive = (cursor: number): number => {
    while (stretch < live.length) {
      const { from, to } = live[stretch] as TimeStretch;
      const candidate = alignUp(Math.max(cursor, from), LIVE_CADENCE_MS);
      if (candidate < to) return candidate;
      stretch++;
    }
    return Number.POSITIVE_INFINITY;
  };
  let cursor = range.from;
  for (;;) {
    const ts = Math.min(alignUp(cursor, cadence), nextLive(cursor));
    if (ts >= range.to) return;
    yield ts;
    cursor = ts + 1;
  }
}

/** The host's samples over a range, oldest first. */
export function* syntheticSamples(seed: number, range: SyntheticRange): Generator<Sample> {
  for (const ts of syntheticTimestamps(range)) yield syntheticSample(seed, ts, range);
}

/** The custom metrics an application flushes every `cadenceMs` over a range (not at the live cadence). */
export function* syntheticCustomMetricsOver(seed: number, range: SyntheticRange): Generator<CustomMetric> {
  const cadence = range.cadenceMs ?? 10_000;
  for (let ts = alignUp(range.from, cadence); ts < range.to; ts += cadence) {
    yield* syntheticCustomMetrics(seed, ts, cadence);
  }
}
