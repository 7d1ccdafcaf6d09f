import { inArray } from 'drizzle-orm';
import { openDatabase } from '../db/client.ts';
import { hosts } from '../db/schema.ts';
import type { Config } from '../env.ts';
import { log } from '../http/logger.ts';

/**
 * `hosts.last_seen_at` of the given hosts (ingest writes it with every batch): what the alarm checks before it
 * calls a host stale or offline, since the object writes presence only now and then. Best effort: when the
 * database cannot answer, the alarm decides from what the object knows.
 */
export async function lastSeenInDatabase(config: Config, hostIds: readonly string[]): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  if (hostIds.length === 0 || !config.DATABASE_URL) return seen;
  const handle = openDatabase(config);
  try {
    const rows = await handle.db
      .select({ id: hosts.id, lastSeenAt: hosts.lastSeenAt })
      .from(hosts)
      .where(inArray(hosts.id, [...hostIds]));
    for (const row of rows) if (row.lastSeenAt) seen.set(row.id, row.lastSeenAt.getTime());
  } catch (error) {
    log('warn', 'could not read last_seen_at for the presence alarm', {
      error: error instanceof Error ? error.message : String(error),
    });
  } finally {
    await handle.close().catch(() => {});
  }
  return seen;
}
