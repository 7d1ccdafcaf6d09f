export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  /** Lower bound of any delay, so a jitter of ~0 does not hammer a struggling server. */
  minMs?: number;
  random?: () => number;
}

/** Longest wait a server's Retry-After can impose on us. */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * Exponential backoff with full jitter (a uniformly random delay up to base·2ⁿ, capped), which spreads the
 * retries of many agents after an outage instead of having them return in waves. A server's Retry-After wins.
 */
export class Backoff {
  readonly #base: number;
  readonly #max: number;
  readonly #min: number;
  readonly #random: () => number;
  #attempts = 0;

  constructor(options: BackoffOptions = {}) {
    this.#base = options.baseMs ?? 1000;
    this.#max = options.maxMs ?? 5 * 60 * 1000;
    this.#min = options.minMs ?? 250;
    this.#random = options.random ?? Math.random;
  }

  get attempts(): number {
    return this.#attempts;
  }

  /** Delay before the next attempt, in ms. */
  next(retryAfterMs?: number): number {
    this.#attempts++;
    if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), MAX_RETRY_AFTER_MS);
    const ceiling = Math.min(this.#max, this.#base * 2 ** Math.min(this.#attempts - 1, 30));
    return Math.max(this.#min, Math.floor(this.#random() * ceiling));
  }

  /** The longest delay, for failures that retrying soon will not fix (e.g. a rejected signature). */
  longest(): number {
    this.#attempts++;
    return this.#max;
  }

  reset(): void {
    this.#attempts = 0;
  }
}

/** Retry-After is either delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
