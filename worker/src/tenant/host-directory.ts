import { and, eq, inArray, isNull } from 'drizzle-orm';
import { openDatabase } from '../db/client.ts';
import { hosts } from '../db/schema.ts';
import { isUuid } from '../db/uuid.ts';
import type { Config } from '../env.ts';
import { loggableError } from '../http/loggable-error.ts';
import { log } from '../http/logger.ts';

/** The ids among `ids` that are hosts of the tenant. */
export type HostLookup = (config: Config, tenantId: string, ids: string[]) => Promise<Set<string>>;

/** Opens and closes a pool per lookup, as the Worker does per request: lookups are rare (once per new id). */
export const lookupHosts: HostLookup = async (config, tenantId, ids) => {
  const handle = openDatabase(config);
  try {
    const rows = await handle.db
      .select({ id: hosts.id })
      .from(hosts)
      .where(and(eq(hosts.tenantId, tenantId), inArray(hosts.id, ids), isNull(hosts.deletedAt)));
    return new Set(rows.map((r) => r.id));
  } finally {
    await handle.close().catch(() => {});
  }
};

/** How long "not a host of this tenant" is believed: short, since a host may be enrolled a moment later. */
export const NEGATIVE_TTL_MS = 30_000;
/** Most negative answers kept (oldest forgotten first): a few hundred KB at most. */
export const MAX_NEGATIVE_ENTRIES = 10_000;
/** Postgres lookups per object: a burst, then a steady rate. Past it, ids are accepted unchecked. */
export const LOOKUP_BURST = 20;
export const LOOKUPS_PER_SECOND = 2;

/**
 * Which host ids are the tenant's, so that a subscribe naming others is refused (`unknown_host`).
 * A host that has pushed to this object is known; other ids are asked of Postgres, and the answers
 * kept: positive ones for the object's lifetime (hosts are revoked, never deleted, so a known id
 * stays known), negative ones for {@link NEGATIVE_TTL_MS}, since the host may be enrolled a moment
 * later. Lookups themselves are rate-limited per object, so no client can turn subscribes into a
 * stream of database connections.
 *
 * The check only spares clients a subscription that can never deliver anything: another tenant's
 * data never reaches this object, whatever a socket names. So where there is no database to ask
 * (DATABASE_URL unset, as in the object's unit tests), the query fails, or the lookup budget is
 * spent, it fails open.
 */
export class HostDirectory {
  readonly #known = new Set<string>();
  /** Ids found not to be the tenant's hosts, with when that answer expires. */
  readonly #unknown = new Map<string, number>();
  /** Lookups under way, by id: a crowd of sockets subscribing to a new host at once asks Postgres once. */
  readonly #inFlight = new Map<string, Promise<boolean>>();
  readonly #config: () => Config;
  readonly #lookup: HostLookup;
  readonly #now: () => number;
  #tokens = LOOKUP_BURST;
  #refilledAt: number;

  constructor(config: () => Config, lookup: HostLookup = lookupHosts, now: () => number = Date.now) {
    this.#config = config;
    this.#lookup = lookup;
    this.#now = now;
    this.#refilledAt = now();
  }

  /** A host revoked or deleted: no longer taken for one of the tenant's. */
  forget(id: string): void {
    this.#known.delete(id);
  }

  /** The ids among `ids` that are not hosts of `tenantId` (none when every one is). */
  async unknownAmong(tenantId: string, ids: readonly string[], pushed: (id: string) => boolean): Promise<string[]> {
    const now = this.#now();
    const pending = [...new Set(ids)].filter((id) => !this.#known.has(id) && !pushed(id));
    if (pending.length === 0) return [];
    const config = this.#config();
    if (!config.DATABASE_URL) return [];
    // Host ids are UUIDs: anything else is unknown without asking. So is an id refused a moment ago.
    const candidates = pending.filter((id) => isUuid(id) && !this.#stillUnknown(id, now));
    const found = new Set<string>();
    const fresh = candidates.filter((id) => !this.#inFlight.has(id));
    if (fresh.length > 0 && !this.#takeToken(now)) {
      log('warn', 'host lookups over budget; accepting subscribed ids unchecked', { tenantId, ids: fresh.length });
      return pending.filter((id) => !candidates.includes(id));
    }
    if (candidates.length > 0) {
      try {
        const answers = await Promise.all(this.#ask(config, tenantId, candidates));
        for (const [i, isHost] of answers.entries()) if (isHost) found.add(candidates[i] as string);
      } catch (error) {
        log('warn', 'could not check subscribed host ids; accepting them', { tenantId, ...loggableError(error) });
        return pending.filter((id) => !candidates.includes(id));
      }
    }
    for (const id of found) this.#known.add(id);
    for (const id of candidates) if (!found.has(id)) this.#rememberUnknown(id, now);
    return pending.filter((id) => !found.has(id));
  }

  #stillUnknown(id: string, now: number): boolean {
    const expires = this.#unknown.get(id);
    if (expires === undefined) return false;
    if (expires > now) return true;
    this.#unknown.delete(id);
    return false;
  }

  #rememberUnknown(id: string, now: number): void {
    this.#unknown.delete(id); // re-inserted last: the Map's order is oldest first
    this.#unknown.set(id, now + NEGATIVE_TTL_MS);
    if (this.#unknown.size > MAX_NEGATIVE_ENTRIES) {
      const oldest = this.#unknown.keys().next().value;
      if (oldest !== undefined) this.#unknown.delete(oldest);
    }
  }

  #takeToken(now: number): boolean {
    this.#tokens = Math.min(LOOKUP_BURST, this.#tokens + ((now - this.#refilledAt) / 1000) * LOOKUPS_PER_SECOND);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whether each id is a host of the tenant, joining lookups already under way. */
  #ask(config: Config, tenantId: string, ids: string[]): Promise<boolean>[] {
    const fresh = ids.filter((id) => !this.#inFlight.has(id));
    const lookup = fresh.length > 0 ? this.#lookup(config, tenantId, fresh) : Promise.resolve(new Set<string>());
    return ids.map((id) => {
      const running = this.#inFlight.get(id);
      if (running) return running;
      const answer = lookup.then((found) => found.has(id));
      this.#inFlight.set(id, answer);
      const done = () => this.#inFlight.delete(id);
      answer.then(done, done);
      return answer;
    });
  }
}
