import type { Queryable } from '../db/client.ts';
import { auditLog } from '../db/schema.ts';
import type { Caller } from '../http/app-env.ts';

/** Who did it, as the audit log keeps it: the id (no foreign key) and a label that stays readable after. */
export interface AuditActor {
  kind: 'user' | 'api_key' | 'system';
  id: string | null;
  /** The member's e-mail, or the key's id and name, at the time. */
  label: string;
}

export type HostAuditAction = 'host.revoked' | 'host.deleted' | 'host.key_replacement_allowed' | 'host.key_replaced';

export function actorOf(caller: Caller): AuditActor {
  return caller.kind === 'session'
    ? { kind: 'user', id: caller.userId, label: caller.email }
    : { kind: 'api_key', id: caller.keyId, label: `API key ${caller.keyId}` };
}

/**
 * Appends one entry. Callers write it in the same transaction as the change it records, so there is
 * never a change without its entry nor an entry for a change that rolled back.
 */
export async function recordHostAudit(
  database: Queryable,
  entry: {
    tenantId: string;
    actor: AuditActor;
    action: HostAuditAction;
    hostId: string;
    details?: Record<string, unknown>;
  },
): Promise<void> {
  await database.insert(auditLog).values({
    tenantId: entry.tenantId,
    actorKind: entry.actor.kind,
    actorId: entry.actor.id,
    actorLabel: entry.actor.label,
    action: entry.action,
    targetKind: 'host',
    targetId: entry.hostId,
    details: entry.details ?? {},
  });
}
