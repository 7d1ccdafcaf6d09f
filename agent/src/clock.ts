import { setTimeout as delay } from 'node:timers/promises';

/** Time as the agent sees it; tests substitute a virtual clock so that waits are asserted, not measured. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(Math.max(0, ms), undefined, { signal }).catch(() => undefined),
};

/**
 * A monotonic clock in milliseconds, for durations. Not `performance.now()`: under Node the `performance` global
 * loads perf_hooks and ten more modules on first use (~0.3 MB resident) for two readings per cycle.
 */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
