import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { apiKeys, hosts, invitations, memberships, tenants } from '../db/schema.ts';
import { forgetIngestHostsOf } from '../ingest/host-cache.ts';

/**
 * Deletes an organisation the way a request can afford: a few statements over its small tables, never its
 * history. It is marked deleted; its memberships go (so every membership-based read, from the organisation
 * list to sessions' fallbacks, forgets it at once); its API keys and pending invitations are revoked (no
 * read, enrollment or join); its hosts are marked deleted (their agents get 403 `host_revoked`). The
 * scheduled purge (`purge.ts`) removes the rest in bounded chunks. Answers who lost access, so their live
 * sockets can be closed.
 */
export async function softDeleteOrganization(
  database: Database,
  tenantId: string,
): Promise<{ userIds: string[]; keyIds: string[] }> {
  const lost = await database.transaction(async (tx) => {
    await tx
      .update(tenants)
      .set({ deletedAt: sql`now()` })
      .where(and(eq(tenants.id, tenantId), isNull(tenants.deletedAt)));
    const members = await tx
      .delete(memberships)
      .where(eq(memberships.tenantId, tenantId))
      .returning({ userId: memberships.userId });
    const keys = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
      .where(eq(apiKeys.tenantId, tenantId))
      .returning({ id: apiKeys.id });
    await tx
      .update(invitations)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(invitations.tenantId, tenantId), isNull(invitations.acceptedAt), isNull(invitations.revokedAt)));
    await tx
      .update(hosts)
      .set({ deletedAt: sql`now()`, revokedAt: sql`coalesce(${hosts.revokedAt}, now())`, keyReplaceUntil: null })
      .where(and(eq(hosts.tenantId, tenantId), isNull(hosts.deletedAt)));
    return { userIds: members.map((m) => m.userId), keyIds: keys.map((k) => k.id) };
  });
  // Its hosts were marked deleted above; this isolate must not go on trusting what it read of them (other
  // isolates stop within HOST_CACHE_TTL_MS, as for a revocation).
  forgetIngestHostsOf(tenantId);
  return lost;
}
