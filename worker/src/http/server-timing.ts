/**
 * Phase timings for one request, sent as a `Server-Timing` header (W3C) so a client (the latency bench) can
 * see where a request's time went without reading the stack's log. Local mode only: production answers keep
 * their internals to themselves, and there the clock only moves on I/O anyway, so CPU-only phases read 0.
 */
export class PhaseTimer {
  readonly #phases: [string, number][] = [];
  #last: number;
  readonly enabled: boolean;

  constructor(enabled: boolean, now: () => number = () => performance.now()) {
    this.enabled = enabled;
    this.now = now;
    this.#last = now();
  }

  private readonly now: () => number;

  /** Ends the phase running since the previous mark (or the start) and names it. */
  mark(name: string): void {
    if (!this.enabled) return;
    const at = this.now();
    this.#phases.push([name, at - this.#last]);
    this.#last = at;
  }

  /** Times `work` as its own phase, whatever ran before it concurrently (for overlapping phases). */
  async time<T>(name: string, work: Promise<T>): Promise<T> {
    if (!this.enabled) return work;
    const started = this.now();
    try {
      return await work;
    } finally {
      this.#phases.push([name, this.now() - started]);
    }
  }

  /** `name;dur=1.2, …`, or null when disabled or nothing was marked. */
  header(): string | null {
    if (!this.enabled || this.#phases.length === 0) return null;
    return this.#phases.map(([name, ms]) => `${name};dur=${Math.round(ms * 100) / 100}`).join(', ');
  }
}
