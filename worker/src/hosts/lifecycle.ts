import { KEY_REPLACEMENT_WINDOW_MS } from '@pulsewire/protocol';
import { and, eq, isNull, ne } from 'drizzle-orm';
import { type AuditActor, recordHostAudit } from '../audit/audit-log.ts';
import type { Database, Transaction } from '../db/client.ts';
import { hosts } from '../db/schema.ts';
import { HttpError, notFound } from '../http/errors.ts';
import { forgetIngestHost } from '../ingest/host-cache.ts';

type HostRow = typeof hosts.$inferSelect;

interface HostAction {
  tenantId: string;
  hostId: string;
  actor: AuditActor;
}

/** The organisation's host, not deleted, locked until the transaction ends; 404 otherwise. */
async function lockedHost(tx: Transaction, tenantId: string, hostId: string): Promise<HostRow> {
  const [host] = await tx
    .select()
    .from(hosts)
    .where(and(eq(hosts.id, hostId), eq(hosts.tenantId, tenantId), isNull(hosts.deletedAt)))
    .limit(1)
    .for('update');
  if (!host) throw notFound('No such host');
  return host;
}

const stillRevoked = () =>
  new HttpError(
    409,
    'host_revoked',
    'This host is revoked and stays revoked; delete it, then enroll the machine again',
  );

/**
 * Revokes a host for good: its agent is refused with 403 `host_revoked` from its next push, enrollment with
 * its key answers the same, and no key replacement applies to it. Revoking again changes nothing.
 */
export async function revokeHost(database: Database, action: HostAction): Promise<{ revokedAt: Date }> {
  const result = await database.transaction(async (tx) => {
    const host = await lockedHost(tx, action.tenantId, action.hostId);
    if (host.revokedAt) return { revokedAt: host.revokedAt };
    const revokedAt = new Date();
    await tx.update(hosts).set({ revokedAt, keyReplaceUntil: null }).where(eq(hosts.id, host.id));
    await recordHostAudit(tx, {
      ...action,
      action: 'host.revoked',
      details: { name: host.name, machineId: host.machineId },
    });
    return { revokedAt };
  });
  // This isolate's next push from the host reads it afresh; other isolates' within HOST_CACHE_TTL_MS.
  forgetIngestHost(action.hostId);
  return result;
}

/**
 * Deletes a host: one row update, whatever its history. From then on every read ignores it and its agent
 * is refused; the scheduled purge (`worker/src/jobs/purge-deleted.ts`) removes its rows in bounded chunks.
 */
export async function deleteHost(database: Database, action: HostAction): Promise<void> {
  await database.transaction(async (tx) => {
    const host = await lockedHost(tx, action.tenantId, action.hostId);
    const now = new Date();
    await tx
      .update(hosts)
      .set({ deletedAt: now, revokedAt: host.revokedAt ?? now, keyReplaceUntil: null })
      .where(eq(hosts.id, host.id));
    await recordHostAudit(tx, {
      ...action,
      action: 'host.deleted',
      details: { name: host.name, machineId: host.machineId, wasRevoked: host.revokedAt !== null },
    });
  });
  forgetIngestHost(action.hostId);
}

function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

/**
 * Replaces a host's key, audited. With `publicKey`, that key signs for the host from now on (the machine
 * enrolls with it and gets this host back). Without, the next enrollment of the host's machine id with a new
 * key takes the host over, within {@link KEY_REPLACEMENT_WINDOW_MS}; until then the old key keeps working.
 */
export async function replaceHostKey(
  database: Database,
  action: HostAction & { publicKey?: string | undefined },
): Promise<{ replaced: boolean; keyReplaceUntil: Date | null }> {
  try {
    const result = await database.transaction(async (tx) => {
      const host = await lockedHost(tx, action.tenantId, action.hostId);
      if (host.revokedAt) throw stillRevoked();
      const { publicKey } = action;
      if (publicKey === undefined) {
        const keyReplaceUntil = new Date(Date.now() + KEY_REPLACEMENT_WINDOW_MS);
        await tx.update(hosts).set({ keyReplaceUntil }).where(eq(hosts.id, host.id));
        await recordHostAudit(tx, {
          tenantId: action.tenantId,
          hostId: action.hostId,
          actor: action.actor,
          action: 'host.key_replacement_allowed',
          details: { machineId: host.machineId, until: keyReplaceUntil.toISOString() },
        });
        return { replaced: false, keyReplaceUntil };
      }
      if (publicKey === host.publicKey) return { replaced: true, keyReplaceUntil: null };
      const [other] = await tx
        .select({ id: hosts.id })
        .from(hosts)
        .where(
          and(
            eq(hosts.tenantId, action.tenantId),
            eq(hosts.publicKey, publicKey),
            isNull(hosts.deletedAt),
            ne(hosts.id, host.id),
          ),
        )
        .limit(1);
      if (other) throw publicKeyInUse();
      await tx.update(hosts).set({ publicKey, keyReplaceUntil: null }).where(eq(hosts.id, host.id));
      await recordHostAudit(tx, {
        tenantId: action.tenantId,
        hostId: action.hostId,
        actor: action.actor,
        action: 'host.key_replaced',
        details: { via: 'api', machineId: host.machineId, previousPublicKey: host.publicKey, publicKey },
      });
      return { replaced: true, keyReplaceUntil: null };
    });
    // The old key stops signing for this host in this isolate at once (in others within HOST_CACHE_TTL_MS).
    forgetIngestHost(action.hostId);
    return result;
  } catch (error) {
    // Another host took that key between the check and the update.
    if (isUniqueViolation(error)) throw publicKeyInUse();
    throw error;
  }
}

const publicKeyInUse = () =>
  new HttpError(409, 'public_key_in_use', 'Another host of this organisation already has that public key');
