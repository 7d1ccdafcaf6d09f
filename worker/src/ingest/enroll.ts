import type { EnrollRequest } from '@pulsewire/protocol';
import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import { recordHostAudit } from '../audit/audit-log.ts';
import type { Database, Transaction } from '../db/client.ts';
import { hosts } from '../db/schema.ts';
import type { IngestKey } from '../http/app-env.ts';
import { HttpError } from '../http/errors.ts';
import { forgetIngestHost } from './host-cache.ts';

type HostRow = typeof hosts.$inferSelect;

const revoked = () =>
  new HttpError(
    403,
    'host_revoked',
    'This host was revoked and stays revoked; an admin can delete it to enroll afresh',
  );

async function hostWithKey(tx: Transaction, tenantId: string, publicKey: string): Promise<HostRow | undefined> {
  const [row] = await tx
    .select()
    .from(hosts)
    .where(and(eq(hosts.tenantId, tenantId), eq(hosts.publicKey, publicKey), isNull(hosts.deletedAt)))
    .limit(1)
    .for('update');
  return row;
}

/** What every enrollment may change on its host: facts, labels, version, and the name when one is given. */
function refreshed(input: EnrollRequest, key: IngestKey) {
  return {
    ...(input.name ? { name: input.name } : {}),
    labels: input.labels,
    facts: input.facts,
    agentVersion: input.agentVersion,
    enrolledWithKeyId: key.id,
  };
}

/**
 * Registers a machine's key pair and answers its host id. A host is its key pair:
 *
 * - the same public key again is the same host (an agent enrolling twice, or retrying): facts are refreshed;
 *   a revoked host stays revoked (403 `host_revoked`) and is not touched;
 * - a new key is a new host, even from a machine id the organisation knows (cloned machines share machine
 *   ids; whoever holds the ingest key must not be able to take over an existing host's identity);
 * - except when an admin allowed a key replacement for a host of that machine id (`POST /hosts/:id/replace-key`
 *   without a key): then the first such enrollment takes that host over, with its history, and the takeover
 *   is written to the audit log.
 */
export async function enrollHost(database: Database, key: IngestKey, input: EnrollRequest): Promise<string> {
  const hostId = await database.transaction(async (tx) => {
    const known = await hostWithKey(tx, key.tenantId, input.publicKey);
    if (known) {
      if (known.revokedAt) throw revoked();
      await tx.update(hosts).set(refreshed(input, key)).where(eq(hosts.id, known.id));
      return known.id;
    }
    // Locked, and the window re-checked on the locked row: two machines racing for one allowed replacement
    // cannot both take it; the second becomes a new host.
    const [allowed] = await tx
      .select()
      .from(hosts)
      .where(
        and(
          eq(hosts.tenantId, key.tenantId),
          eq(hosts.machineId, input.machineId),
          isNull(hosts.deletedAt),
          isNull(hosts.revokedAt),
          gt(hosts.keyReplaceUntil, sql`now()`),
        ),
      )
      .orderBy(desc(hosts.keyReplaceUntil))
      .limit(1)
      .for('update');
    if (allowed) {
      await tx
        .update(hosts)
        .set({ ...refreshed(input, key), publicKey: input.publicKey, keyReplaceUntil: null })
        .where(eq(hosts.id, allowed.id));
      await recordHostAudit(tx, {
        tenantId: key.tenantId,
        actor: { kind: 'api_key', id: key.id, label: `ingest key ${key.id}` },
        action: 'host.key_replaced',
        hostId: allowed.id,
        details: {
          via: 'enrollment',
          machineId: input.machineId,
          previousPublicKey: allowed.publicKey,
          publicKey: input.publicKey,
        },
      });
      return allowed.id;
    }
    const [created] = await tx
      .insert(hosts)
      .values({
        tenantId: key.tenantId,
        machineId: input.machineId,
        name: input.name ?? input.hostname,
        publicKey: input.publicKey,
        labels: input.labels,
        facts: input.facts,
        agentVersion: input.agentVersion,
        enrolledWithKeyId: key.id,
      })
      .onConflictDoNothing({ target: [hosts.tenantId, hosts.publicKey], where: isNull(hosts.deletedAt) })
      .returning({ id: hosts.id });
    if (created) return created.id;
    // The same key enrolled concurrently (an agent's retry) and committed first: that host is this one.
    const raced = await hostWithKey(tx, key.tenantId, input.publicKey);
    if (!raced) throw new Error('enrollment: conflicting host vanished');
    if (raced.revokedAt) throw revoked();
    return raced.id;
  });
  // Its name, labels or (by a takeover) its key may have changed: pushes read the host afresh.
  forgetIngestHost(hostId);
  return hostId;
}
