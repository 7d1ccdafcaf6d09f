/**
 * A bounded map whose entries expire `ttlMs` after they were set: per-isolate memory for what every request
 * looks up, where a stale answer is acceptable for a few seconds and no longer. Past `maxEntries` the oldest
 * entry goes first (Map order is insertion order; `set` re-inserts), so a flood of distinct keys cannot grow
 * the isolate's memory. Values are plain data: a promise or I/O object of one request may not be used by another.
 */
export class TtlCache<K, V> {
  readonly #entries = new Map<K, { value: V; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { ttlMs: number; maxEntries: number; now?: () => number }) {
    if (!(options.ttlMs > 0) || !(options.maxEntries > 0)) throw new RangeError('ttlMs and maxEntries must be > 0');
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** The value set less than `ttlMs` ago, else undefined (and the expired entry is dropped). */
  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt: this.#now() + this.#ttlMs });
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  /** Drops every entry for which `predicate` holds (e.g. all of one tenant's). */
  deleteWhere(predicate: (key: K, value: V) => boolean): void {
    for (const [key, entry] of this.#entries) if (predicate(key, entry.value)) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
