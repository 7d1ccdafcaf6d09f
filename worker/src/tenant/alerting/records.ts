import { and, eq, sql } from 'drizzle-orm';
import type { AlertTransition } from '../../alerts/types.ts';
import type { Queryable } from '../../db/client.ts';
import { alertEvents, notificationChannels, notificationDeliveries } from '../../db/schema.ts';
import type { DeliveryRecord } from '../../notify/types.ts';

/** The state an instance is recorded in after a transition: `ok` after having started is `resolved`. */
export function recordedState(to: AlertTransition['to']): 'pending' | 'firing' | 'resolved' | 'stale' {
  return to === 'ok' ? 'resolved' : to;
}

/**
 * Writes transitions to `alert_events`: one row per alert instance, upserted, so the row always says
 * where the instance is now and the history keeps one line per alert. One statement per call, however
 * many transitions (a mass host-down is one round trip).
 */
export async function recordTransitions(
  database: Queryable,
  tenantId: string,
  transitions: readonly { transition: AlertTransition; ruleName: string; silenced: boolean }[],
): Promise<void> {
  if (transitions.length === 0) return;
  // Two transitions of one instance in one call: only the last describes it now.
  const latest = new Map<string, (typeof transitions)[number]>();
  for (const t of transitions) latest.set(t.transition.alertId, t);
  const rows = [...latest.values()].map(({ transition: t, ruleName, silenced }) => ({
    id: t.alertId,
    tenantId,
    ruleId: t.ruleId,
    ruleName,
    hostId: t.hostId,
    seriesKey: t.series,
    labels: t.labels,
    state: recordedState(t.to),
    level: t.level,
    value: t.value,
    peak: t.peak,
    threshold: t.threshold,
    message: t.message,
    startedAt: new Date(t.startedAt),
    firedAt: t.firedAt === null ? null : new Date(t.firedAt),
    resolvedAt: t.to === 'ok' ? new Date(t.at) : null,
    silenced,
    updatedAt: new Date(t.at),
  }));
  await database
    .insert(alertEvents)
    .values(rows)
    .onConflictDoUpdate({
      target: alertEvents.id,
      // A retried write never moves an instance back: only a newer transition updates the row.
      setWhere: sql`${alertEvents.tenantId} = ${tenantId} AND ${alertEvents.updatedAt} <= excluded.updated_at`,
      set: {
        state: sql`excluded.state`,
        level: sql`excluded.level`,
        value: sql`excluded.value`,
        peak: sql`excluded.peak`,
        threshold: sql`excluded.threshold`,
        message: sql`excluded.message`,
        firedAt: sql`excluded.fired_at`,
        resolvedAt: sql`excluded.resolved_at`,
        labels: sql`excluded.labels`,
        silenced: sql`excluded.silenced`,
        updatedAt: sql`excluded.updated_at`,
      },
    });
}

/**
 * Writes the delivery log: one row per (channel, message), updated by each attempt. A channel deleted
 * meanwhile (its foreign key refuses the row) simply has no log to write to.
 */
export async function recordDeliveries(
  database: Queryable,
  tenantId: string,
  records: readonly DeliveryRecord[],
): Promise<void> {
  for (const r of records) {
    const values = {
      kind: r.kind,
      status: r.status,
      attempts: r.attempts,
      latencyMs: r.latencyMs,
      lastStatus: r.lastStatus,
      // A suppressed or held message has no error; its reason (silence, quiet hours, budget) goes here.
      lastError: (r.lastError ?? r.reason)?.slice(0, 2000) ?? null,
      alertIds: r.alertIds,
      sentAt: r.status === 'sent' ? new Date(r.at) : null,
    };
    const updated = await database
      .update(notificationDeliveries)
      .set(values)
      .where(
        and(
          eq(notificationDeliveries.tenantId, tenantId),
          eq(notificationDeliveries.channelId, r.channelId),
          eq(notificationDeliveries.messageId, r.messageId),
        ),
      )
      .returning({ id: notificationDeliveries.id });
    if (updated.length > 0) continue;
    try {
      await database.insert(notificationDeliveries).values({
        tenantId,
        channelId: r.channelId,
        messageId: r.messageId,
        createdAt: new Date(r.at),
        ...values,
      });
    } catch (error) {
      if (!isForeignKeyViolation(error)) throw error;
    }
  }
}

function isForeignKeyViolation(error: unknown): boolean {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23503') return true;
  }
  return false;
}

/** A permanent delivery error (Slack `channel_not_found`, webhook 410) turns the channel off, saying why. */
export async function disableChannel(
  database: Queryable,
  tenantId: string,
  channelId: string,
  reason: string,
): Promise<void> {
  await database
    .update(notificationChannels)
    .set({ enabled: false, disabledReason: reason.slice(0, 500), updatedAt: new Date() })
    .where(and(eq(notificationChannels.tenantId, tenantId), eq(notificationChannels.id, channelId)));
}
