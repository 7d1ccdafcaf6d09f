import { TtlCache } from '../auth/ttl-cache.ts';
import type { hosts } from '../db/schema.ts';

/** What ingest needs of a host on every push: who signs for it, whether it may push, what alerts call it. */
export type IngestHost = Pick<
  typeof hosts.$inferSelect,
  'id' | 'tenantId' | 'name' | 'labels' | 'publicKey' | 'revokedAt' | 'deletedAt' | 'lastSeq'
>;

/**
 * How long an isolate trusts what it read of a host. A host at the live cadence pushes every second, so this
 * spares four lookups in five; a revocation, deletion or key replacement done through another isolate takes
 * effect within this long (through this one, at once: see {@link forgetIngestHost}).
 */
export const HOST_CACHE_TTL_MS = 5_000;
/** Hosts remembered per isolate: an entry is ~300 bytes, so this bounds the cache near 3 MB. */
export const HOST_CACHE_MAX_ENTRIES = 10_000;

const cache = new TtlCache<string, IngestHost>({ ttlMs: HOST_CACHE_TTL_MS, maxEntries: HOST_CACHE_MAX_ENTRIES });

/** The host as last read from Postgres by this isolate, if that was under {@link HOST_CACHE_TTL_MS} ago. */
export function cachedIngestHost(hostId: string): IngestHost | undefined {
  return cache.get(hostId);
}

export function rememberIngestHost(host: IngestHost): void {
  cache.set(host.id, host);
}

/**
 * Called after anything that changes whether or how a host may push (revoke, delete, key replacement, a
 * takeover by enrollment, a rename or new labels): this isolate's next push reads the host afresh.
 */
export function forgetIngestHost(hostId: string): void {
  cache.delete(hostId);
}

/** After an organisation is deleted: none of its hosts may push through this isolate's memory of them. */
export function forgetIngestHostsOf(tenantId: string): void {
  cache.deleteWhere((_hostId, host) => host.tenantId === tenantId);
}

/** For tests: how many hosts this isolate remembers. */
export function ingestHostCacheSize(): number {
  return cache.size;
}
