import { and, eq, inArray } from 'drizzle-orm';
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
      .where(and(eq(hosts.tenantId, tenantId), inArray(hosts.id, ids)));
    return new Set(rows.map((r) => r.id));
  } finally {
    await handle.close().catch(() => {});
  }
};

/**
 * Which host ids are the tenant's, so that a subscribe naming others is refused (`unknown_host`).
 * A host that has pushed to this object is known; other ids are asked of Postgres, once each while
 * they are unknown, and the positive answers kept for the object's lifetime (hosts are revoked,
 * never deleted, so a known id stays known; a negative answer is not kept, since the host may be
 * enrolled a moment later).
 *
 * The check only spares clients a subscription that can never deliver anything: another tenant's
 * data never reaches this object, whatever a socket names. So where there is no database to ask
 * (DATABASE_URL unset, as in the object's unit tests) or the query fails, it fails open.
 */
export class HostDirectory {
  readonly #known = new Set<string>();
  /** Lookups under way, by id: a crowd of sockets subscribing to a new host at once asks Postgres once. */
  readonly #inFlight = new Map<string, Promise<boolean>>();
  readonly #config: () => Config;
  readonly #lookup: HostLookup;

  constructor(config: () => Config, lookup: HostLookup = lookupHosts) {
    this.#config = config;
    this.#lookup = lookup;
  }

  /** The ids among `ids` that are not hosts of `tenantId` (none when every one is). */
  async unknownAmong(tenantId: string, ids: readonly string[], pushed: (id: string) => boolean): Promise<string[]> {
    const pending = [...new Set(ids)].filter((id) => !this.#known.has(id) && !pushed(id));
    if (pending.length === 0) return [];
    const config = this.#config();
    if (!config.DATABASE_URL) return [];
    // Host ids are UUIDs: anything else is unknown without asking.
    const candidates = pending.filter(isUuid);
    const found = new Set<string>();
    if (candidates.length > 0) {
      try {
        const answers = await Promise.all(this.#ask(config, tenantId, candidates));
        for (const [i, isHost] of answers.entries()) if (isHost) found.add(candidates[i] as string);
      } catch (error) {
        log('warn', 'could not check subscribed host ids; accepting them', { tenantId, ...loggableError(error) });
        return pending.filter((id) => !isUuid(id));
      }
    }
    for (const id of found) this.#known.add(id);
    return pending.filter((id) => !found.has(id));
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
