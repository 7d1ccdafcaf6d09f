/**
 * Where the engine keeps alert state: the part of Durable Object storage it needs, so the tenant
 * object passes `ctx.storage` and tests pass {@link memoryStorage}.
 */
export interface AlertStorage {
  list(options: { prefix: string }): Promise<Map<string, unknown>>;
  put(entries: Record<string, unknown>): Promise<void>;
  delete(keys: string[]): Promise<number>;
}

/** Durable Object storage takes at most 128 keys per put or delete. */
export const STORAGE_BATCH = 128;

/** A Map behind the storage interface; values are cloned both ways, as Durable Object storage does. */
export function memoryStorage(map = new Map<string, unknown>()): AlertStorage & { map: Map<string, unknown> } {
  return {
    map,
    async list({ prefix }) {
      const found = new Map<string, unknown>();
      for (const key of [...map.keys()].sort()) {
        if (key.startsWith(prefix)) found.set(key, structuredClone(map.get(key)));
      }
      return found;
    },
    async put(entries) {
      const keys = Object.keys(entries);
      if (keys.length > STORAGE_BATCH) throw new Error(`put of ${keys.length} keys (at most ${STORAGE_BATCH})`);
      for (const key of keys) map.set(key, structuredClone(entries[key]));
    },
    async delete(keys) {
      if (keys.length > STORAGE_BATCH) throw new Error(`delete of ${keys.length} keys (at most ${STORAGE_BATCH})`);
      let deleted = 0;
      for (const key of keys) if (map.delete(key)) deleted++;
      return deleted;
    },
  };
}
