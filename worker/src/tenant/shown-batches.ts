/**
 * The batches whose samples were sent live (by `showLive` before their commit, or by `recordBatch`), per host (the
 * newest few): an agent retrying a
 * batch (its answer was lost, or the insert failed) sends the same batch id again, and the dashboard must not get
 * it twice. Memory only: after a wake-up a retried batch may be shown again, which the dashboard merges by
 * timestamp. Bounded per host and in hosts.
 */
export class ShownBatches {
  readonly #byHost = new Map<string, string[]>();
  readonly #perHost: number;
  readonly #maxHosts: number;

  constructor(perHost = 4, maxHosts = 10_000) {
    this.#perHost = perHost;
    this.#maxHosts = maxHosts;
  }

  has(hostId: string, batchId: string): boolean {
    return this.#byHost.get(hostId)?.includes(batchId) ?? false;
  }

  add(hostId: string, batchId: string): void {
    const recent = this.#byHost.get(hostId);
    if (recent) {
      recent.push(batchId);
      if (recent.length > this.#perHost) recent.shift();
      return;
    }
    if (this.#byHost.size >= this.#maxHosts) {
      const oldest = this.#byHost.keys().next();
      if (!oldest.done) this.#byHost.delete(oldest.value);
    }
    this.#byHost.set(hostId, [batchId]);
  }
}
