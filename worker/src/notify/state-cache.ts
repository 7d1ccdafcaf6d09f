import type { NotifyStorage } from './types.ts';

/**
 * The notifier's storage, read once per object lifetime and kept in memory; changes are written at
 * the end of a run, and only the keys that changed (storage writes are billed). A key created and
 * removed within one run costs nothing.
 */
export class StateCache {
  private readonly values = new Map<string, unknown>();
  /** Keys that exist in storage, so a removal of a key never written is not a write. */
  private readonly stored = new Set<string>();
  private readonly dirty = new Set<string>();
  private loading: Promise<void> | null = null;
  private readonly storage: NotifyStorage;
  private readonly prefix: string;

  constructor(storage: NotifyStorage, prefix: string) {
    this.storage = storage;
    this.prefix = prefix;
  }

  load(): Promise<void> {
    this.loading ??= this.storage.list<unknown>({ prefix: this.prefix }).then((found) => {
      for (const [key, value] of found) {
        this.values.set(key, value);
        this.stored.add(key);
      }
    });
    return this.loading;
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  /** A copy: change it and `set` it back, so every change is seen. */
  get<T>(key: string): T | undefined {
    const value = this.values.get(key);
    return value === undefined ? undefined : (structuredClone(value) as T);
  }

  set<T>(key: string, value: T): void {
    this.values.set(key, value);
    this.dirty.add(key);
  }

  remove(key: string): void {
    if (!this.values.delete(key)) return;
    this.dirty.add(key);
  }

  /**
   * Entries under a prefix, not copied (this runs over every alert on each run): read them, and
   * `set` a new object to change one. Safe to `set` and `remove` while iterating.
   */
  entries<T>(prefix: string): [string, Readonly<T>][] {
    const found: [string, T][] = [];
    for (const [key, value] of this.values) {
      if (key.startsWith(prefix)) found.push([key, value as T]);
    }
    return found;
  }

  async commit(): Promise<void> {
    const writes: Promise<unknown>[] = [];
    for (const key of this.dirty) {
      if (this.values.has(key)) {
        writes.push(this.storage.put(key, this.values.get(key)));
        this.stored.add(key);
      } else if (this.stored.delete(key)) {
        writes.push(this.storage.delete(key));
      }
    }
    this.dirty.clear();
    await Promise.all(writes);
  }
}
