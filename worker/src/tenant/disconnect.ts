import { eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { memberships } from '../db/schema.ts';
import type { AppEnv } from '../http/app-env.ts';
import { db } from '../http/database.ts';
import { loggableError } from '../http/loggable-error.ts';
import { log } from '../http/logger.ts';

type Principal = { kind: 'user' | 'key'; id: string };

/**
 * Access just ended (sessions revoked, member removed, key revoked): close the live sockets that access
 * opened, in the given organisations, so a dashboard cannot keep streaming on a credential that is gone.
 * The request that ended the access has already succeeded; a failure here is logged, not returned.
 */
export async function disconnectLive(
  c: Context<AppEnv>,
  tenantIds: readonly string[],
  principal: Principal,
  reason: string,
): Promise<void> {
  await Promise.all(
    tenantIds.map((tenantId) =>
      c.env.TENANT.get(c.env.TENANT.idFromName(tenantId))
        .disconnect(principal, reason)
        .catch((error: unknown) =>
          log('warn', 'could not close live sockets', {
            tenantId,
            principal: principal.kind,
            ...loggableError(error),
          }),
        ),
    ),
  );
}

/** Every organisation of the user: their sessions were revoked, so their sockets close everywhere. */
export async function disconnectUserEverywhere(c: Context<AppEnv>, userId: string, reason: string): Promise<void> {
  const rows = await db(c)
    .select({ tenantId: memberships.tenantId })
    .from(memberships)
    .where(eq(memberships.userId, userId));
  await disconnectLive(
    c,
    rows.map((r) => r.tenantId),
    { kind: 'user', id: userId },
    reason,
  );
}
