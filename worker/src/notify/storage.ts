import type { NotifyStorage } from './types.ts';

/**
 * A Map behind the `NotifyStorage` interface, for tests (and a second "instance" over the same
 * map stands for an object that was evicted and woke up again). Values are cloned on the way in and
 * out, as Durable Object storage does, so code that mutates a read value without `put` is caught.
 */
export function memoryStorage(): NotifyStorage & { map: Map<string, unknown>; writes: number } {
  const map = new Map<string, unknown>();
  const storage = {
    map,
    writes: 0,
    async get<T>(key: string) {
      return map.has(key) ? (structuredClone(map.get(key)) as T) : undefined;
    },
    async put<T>(key: string, value: T) {
      storage.writes++;
      map.set(key, structuredClone(value));
    },
    async delete(key: string) {
      storage.writes++;
      return map.delete(key);
    },
    async list<T>(options: { prefix: string }) {
      const found = new Map<string, T>();
      for (const key of [...map.keys()].sort()) {
        if (key.startsWith(options.prefix)) found.set(key, structuredClone(map.get(key)) as T);
      }
      return found;
    },
  };
  return storage;
}
