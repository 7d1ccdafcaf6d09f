import { type Role, RuleInput } from '@pulsewire/protocol';
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { EngineHost, EngineRule } from '../../alerts/types.ts';
import type { Queryable } from '../../db/client.ts';
import {
  alertRules,
  hosts,
  maintenanceWindows,
  memberships,
  notificationChannels,
  silences,
  users,
} from '../../db/schema.ts';
import { log } from '../../http/logger.ts';
import type { NotifyChannel, NotifyMaintenanceWindow, NotifyRule, NotifySilence } from '../../notify/types.ts';

/** What the tenant object needs from Postgres to evaluate and notify; loaded once per change, not per batch. */
export interface AlertConfig {
  /** Enabled rules, for the engine. */
  rules: EngineRule[];
  /** Every rule, enabled or not, for notifying about instances of a rule just disabled. */
  notifyRules: Map<string, NotifyRule>;
  channels: NotifyChannel[];
  silences: NotifySilence[];
  windows: NotifyMaintenanceWindow[];
  hosts: Map<string, EngineHost>;
  /** Verified member addresses by role, for e-mail channels addressed to roles. */
  recipients: Map<Role, string[]>;
}

/**
 * Reads the tenant's alerting configuration in one go (parallel queries over one pool). A stored
 * spec that no longer parses (a rule written by an older schema) is skipped and logged, never
 * evaluated half-understood.
 */
export async function loadAlertConfig(database: Queryable, tenantId: string, now: number): Promise<AlertConfig> {
  const [ruleRows, channelRows, silenceRows, windowRows, hostRows, memberRows] = await Promise.all([
    database.select().from(alertRules).where(eq(alertRules.tenantId, tenantId)),
    database.select().from(notificationChannels).where(eq(notificationChannels.tenantId, tenantId)),
    database
      .select()
      .from(silences)
      .where(and(eq(silences.tenantId, tenantId), gt(silences.endsAt, new Date(now)))),
    database
      .select()
      .from(maintenanceWindows)
      .where(and(eq(maintenanceWindows.tenantId, tenantId), eq(maintenanceWindows.enabled, true))),
    database
      .select({ id: hosts.id, name: hosts.name, labels: hosts.labels })
      .from(hosts)
      .where(and(eq(hosts.tenantId, tenantId), isNull(hosts.revokedAt))),
    database
      .select({ email: users.email, role: memberships.role, verified: users.emailVerifiedAt })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(eq(memberships.tenantId, tenantId)),
  ]);

  const rules: EngineRule[] = [];
  const notifyRules = new Map<string, NotifyRule>();
  for (const row of ruleRows) {
    const spec = RuleInput.safeParse({ ...row.spec, name: row.name, enabled: row.enabled });
    if (!spec.success) {
      log('warn', 'skipping an alert rule whose stored spec does not parse', { tenantId, ruleId: row.id });
      continue;
    }
    notifyRules.set(row.id, { id: row.id, name: row.name, runbook: spec.data.runbook, notify: spec.data.notify });
    if (row.enabled) rules.push({ id: row.id, spec: spec.data, updatedAt: row.updatedAt.getTime() });
  }

  const recipients = new Map<Role, string[]>();
  for (const member of memberRows) {
    if (!member.verified) continue;
    recipients.set(member.role, [...(recipients.get(member.role) ?? []), member.email]);
  }

  return {
    rules,
    notifyRules,
    channels: channelRows.map((row) => ({
      id: row.id,
      name: row.name,
      enabled: row.enabled,
      minLevel: row.minLevel,
      config: row.config,
      quietHours: row.quietHours ?? null,
      hourlyBudget: row.hourlyBudget,
      secrets: [
        row.secret,
        row.previousSecretExpiresAt && row.previousSecretExpiresAt.getTime() > now ? row.previousSecret : null,
      ].filter((s): s is string => typeof s === 'string' && s.length > 0),
    })),
    silences: silenceRows.map((row) => ({
      id: row.id,
      matchers: row.matchers,
      startsAt: row.startsAt.getTime(),
      endsAt: row.endsAt.getTime(),
    })),
    windows: windowRows.map((row) => ({
      id: row.id,
      name: row.name,
      timeZone: row.timeZone,
      days: row.days,
      start: row.start,
      durationMinutes: row.durationMinutes,
      matchers: row.matchers,
      enabled: row.enabled,
    })),
    hosts: new Map(hostRows.map((h) => [h.id, { id: h.id, name: h.name, labels: h.labels }])),
    recipients,
  };
}
