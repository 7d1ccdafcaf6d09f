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
