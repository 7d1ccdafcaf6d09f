import type { Sample } from '@pulsewire/protocol';

/** The parts of a sample a collector may fill in. */
export type Section = Omit<Sample, 'ts'>;

export interface Collector {
  /** Stable name used in logs ("collector cpu failed …"). */
  readonly name: string;
  /**
   * Resolves with the sections this collector fills, or `undefined` when it has nothing new this cycle
   * (a first reading that only primes a rate, a throttled refresh). Rejects when it failed.
   */
  collect(now: number): Promise<Section | undefined>;
  /** Releases sockets or handles, if it holds any. */
  close?(): Promise<void>;
}

/** Thrown when the thing a collector reads does not exist on this machine (no GPU, no Docker). */
export class SourceAbsentError extends Error {
  override name = 'SourceAbsentError';
}

/** Rounds to keep batches small: 12.345678 → 12.35. */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function clampPct(value: number): number {
  return round(Math.min(100, Math.max(0, Number.isFinite(value) ? value : 0)));
}

/** Per-second rate of a counter between two readings; counters that went backwards (reset, wrap) read 0. */
export function perSecond(current: number, previous: number, elapsedMs: number): number {
  if (elapsedMs <= 0 || current < previous) return 0;
  return round(((current - previous) * 1000) / elapsedMs);
}

/**
 * Wraps a collector so it runs at most every `intervalMs`; in between it reports nothing, which in the
 * protocol means "no new reading" (the dashboard keeps the last one). Used for slow-changing or costly sources.
 */
export function throttle(collector: Collector, intervalMs: number): Collector {
  let last = Number.NEGATIVE_INFINITY;
  let failure: unknown;
  return {
    name: collector.name,
    async collect(now) {
      // A source that failed stays failed until it is asked again, so it is not reported as recovered meanwhile.
      if (now - last < intervalMs) {
        if (failure !== undefined) throw failure;
        return undefined;
      }
      last = now;
      try {
        const result = await collector.collect(now);
        failure = undefined;
        return result;
      } catch (error) {
        failure = error;
        throw error;
      }
    },
    close: collector.close ? () => collector.close?.() ?? Promise.resolve() : undefined,
  };
}
