import type { AlertLevel, NotificationKind, NotifiedAlert } from '@pulsewire/protocol';
import type { AlertTransition } from '../alerts/types.ts';
import { higherLevel } from './routing.ts';
import type { DigestEntry, Notification, NotifyChannel, NotifyContext, NotifyRule } from './types.ts';

/** How alerts and messages are described, the same way on every channel. */

/** Stable per (rule, host, series): what PagerDuty calls `dedup_key` and Opsgenie `alias`. */
export const dedupKeyOf = (t: { ruleId: string; hostId: string | null; series: string }) =>
  `${t.ruleId}:${t.hostId ?? '-'}:${t.series}`;

const iso = (ms: number) => new Date(ms).toISOString();

export function notifiedAlert(t: AlertTransition, rule: NotifyRule, ctx: NotifyContext): NotifiedAlert {
  const resolved = t.to === 'ok';
  // `ok` after pending (never fired) reads as resolved too: the instance is over either way.
  return {
    id: t.alertId,
    dedupKey: dedupKeyOf(t),
    ruleId: t.ruleId,
    ruleName: rule.name,
    hostId: t.hostId,
    hostName: t.hostId ? (ctx.hostNames.get(t.hostId) ?? null) : null,
    series: t.series,
    labels: t.labels,
    level: t.level,
    state: t.to === 'ok' ? 'resolved' : t.to,
    value: t.value,
    peak: t.peak,
    threshold: t.threshold,
    message: t.message,
    runbook: rule.runbook,
    startedAt: iso(t.startedAt),
    resolvedAt: resolved ? iso(t.at) : null,
    // From when it fired (what "down for 12 min" means to a reader); an alert that never fired counts from its start.
    durationSeconds: resolved ? Math.max(0, Math.round((t.at - (t.firedAt ?? t.startedAt)) / 1000)) : null,
    url: alertUrl(ctx.origin, t.alertId),
  };
}

export const alertUrl = (origin: string, alertId: string) => `${origin}/alerts/${alertId}`;
export const hostUrl = (origin: string, hostId: string) => `${origin}/hosts/${hostId}`;

const numberFormat = new Intl.NumberFormat('en', { maximumFractionDigits: 2 });
export const formatValue = (v: number | null) => (v === null ? '—' : numberFormat.format(v));

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return hours % 24 ? `${Math.floor(hours / 24)} d ${hours % 24} h` : `${Math.floor(hours / 24)} d`;
}

/** "web-1", "web-1 disk.used_pct{mount="/"}", or the organisation for alerts without a host. */
export function subjectOf(alert: NotifiedAlert): string {
  const host = alert.hostName ?? alert.hostId ?? 'organisation';
  return alert.series ? `${host} ${alert.series}` : host;
}

/** One line per alert: where, what, and for resolutions how long and how bad it got. */
export function alertLine(alert: NotifiedAlert): string {
  const measure =
    alert.value === null
      ? ''
      : ` = ${formatValue(alert.value)}${alert.threshold === null ? '' : ` (threshold ${formatValue(alert.threshold)})`}`;
  if (alert.state === 'resolved') {
    const duration = alert.durationSeconds === null ? '' : ` after ${formatDuration(alert.durationSeconds)}`;
    const peak = alert.peak === null ? '' : `, peak ${formatValue(alert.peak)}`;
    return `${subjectOf(alert)}: resolved${duration}${peak}`;
  }
  return `${subjectOf(alert)}${measure}${alert.message ? ` — ${alert.message}` : ''}`;
}

const hostCount = (alerts: readonly NotifiedAlert[]) => new Set(alerts.map((a) => a.hostId ?? '-')).size;

function where(alerts: readonly NotifiedAlert[]): string {
  const [first] = alerts;
  if (alerts.length === 1 && first) return `on ${subjectOf(first)}`;
  const hosts = hostCount(alerts);
  return hosts === 1
    ? `on ${alerts.length} series of ${first ? (first.hostName ?? 'one host') : 'one host'}`
    : `on ${hosts} hosts`;
}

export function summaryOf(kind: NotificationKind, ruleName: string, alerts: readonly NotifiedAlert[]): string {
  const level = maxLevel(alerts);
  switch (kind) {
    case 'firing':
      return `${ruleName} ${level ?? ''} ${where(alerts)}`.replace(/\s+/g, ' ');
    case 'escalated':
      return `${ruleName} escalated to ${level ?? 'critical'} ${where(alerts)}`;
    case 'renotify':
      return `Still firing: ${ruleName} ${where(alerts)}`;
    case 'resolved': {
      const [only] = alerts;
      if (alerts.length === 1 && only) {
        const duration = only.durationSeconds === null ? '' : ` after ${formatDuration(only.durationSeconds)}`;
        const peak = only.peak === null ? '' : ` (peak ${formatValue(only.peak)})`;
        return `Resolved: ${ruleName} ${where(alerts)}${duration}${peak}`;
      }
      return `Resolved: ${ruleName} ${where(alerts)}`;
    }
    case 'flapping':
      return `${ruleName} is flapping ${where(alerts)}; no more notifications until it is stable`;
    default:
      return `${ruleName}: ${kind}`;
  }
}

export function maxLevel(alerts: readonly NotifiedAlert[]): AlertLevel | null {
  let level: AlertLevel | null = null;
  for (const a of alerts) level = level ? higherLevel(level, a.level) : a.level;
  return level;
}

/**
 * Bounds on one message, so a stored group, outbox entry or digest stays well under Durable Object
 * storage's 128 KiB per value (an alert with 32 labels and a 4000-character runbook is ~14 KB).
 */
export const MAX_ALERTS_PER_MESSAGE = 50;
export const MAX_MESSAGE_CHARS = 40_000;
export const alertChars = (alert: NotifiedAlert) => JSON.stringify(alert).length;

/** Whether one more alert fits beside these. */
export const fits = (alerts: readonly NotifiedAlert[], alert: NotifiedAlert) =>
  alerts.length < MAX_ALERTS_PER_MESSAGE &&
  alerts.reduce((sum, a) => sum + alertChars(a), alertChars(alert)) <= MAX_MESSAGE_CHARS;

/** Alerts split into messages within the bounds, in order. */
export function chunkAlerts(alerts: readonly NotifiedAlert[]): NotifiedAlert[][] {
  const chunks: NotifiedAlert[][] = [];
  let current: NotifiedAlert[] = [];
  for (const alert of alerts) {
    if (current.length > 0 && !fits(current, alert)) {
      chunks.push(current);
      current = [];
    }
    current.push(alert);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Message ids double as webhook-id: a prefix says what they are in a receiver's logs. */
export const newMessageId = () => `msg_${crypto.randomUUID()}`;

export function alertNotification(
  ctx: NotifyContext,
  channelId: string,
  kind: NotificationKind,
  rule: NotifyRule,
  alerts: NotifiedAlert[],
): Notification {
  return {
    id: newMessageId(),
    channelId,
    kind,
    level: maxLevel(alerts),
    ruleId: rule.id,
    ruleName: rule.name,
    groupKey: `rule:${rule.id}`,
    organizationId: ctx.organizationId,
    externalUrl: ctx.origin,
    summary: summaryOf(kind, rule.name, alerts),
    alerts,
    digest: null,
    digestTotal: null,
    createdAt: ctx.now,
  };
}

/** What a digest remembers of the messages it stands for (bounded: a storm must not fill storage). */
export interface DigestState {
  total: number;
  entries: DigestEntry[];
  alerts: NotifiedAlert[];
}
export const DIGEST_MAX_ENTRIES = 50;

export const emptyDigest = (): DigestState => ({ total: 0, entries: [], alerts: [] });

export function addToDigest(digest: DigestState, message: Notification): DigestState {
  // A digest held back in turn (the hourly one during quiet hours) merges into this one.
  const added: DigestEntry[] = message.digest ?? [
    {
      kind: message.kind,
      ruleName: message.ruleName,
      summary: message.summary,
      level: message.level,
      at: message.createdAt,
    },
  ];
  const entries = [...digest.entries, ...added].slice(0, DIGEST_MAX_ENTRIES);
  // The newest state of each alert: an alert that fired and resolved while held reads "resolved".
  const alerts = [...digest.alerts];
  for (const alert of message.alerts) {
    const i = alerts.findIndex((a) => a.id === alert.id);
    if (i >= 0) alerts[i] = alert;
    else if (fits(alerts, alert)) alerts.push(alert);
  }
  return { total: digest.total + (message.digestTotal ?? 1), entries, alerts };
}

export function digestNotification(
  ctx: NotifyContext,
  channelId: string,
  digest: DigestState,
  why: 'quiet hours' | 'hourly budget',
): Notification {
  const held = `${digest.total} notification${digest.total === 1 ? '' : 's'}`;
  return {
    id: newMessageId(),
    channelId,
    kind: 'digest',
    level: maxLevel(digest.alerts),
    ruleId: null,
    ruleName: null,
    groupKey: `digest:${channelId}`,
    organizationId: ctx.organizationId,
    externalUrl: ctx.origin,
    summary: why === 'quiet hours' ? `${held} during quiet hours` : `${held} over this channel's hourly budget`,
    alerts: digest.alerts,
    digest: digest.entries,
    digestTotal: digest.total,
    createdAt: ctx.now,
  };
}

/** "Send test": the same path as a real alert, with a message that says what it is. */
export function testNotification(
  ctx: Pick<NotifyContext, 'organizationId' | 'origin' | 'now'>,
  channel: NotifyChannel,
): Notification {
  return {
    id: newMessageId(),
    channelId: channel.id,
    kind: 'test',
    level: null,
    ruleId: null,
    ruleName: null,
    groupKey: `channel:${channel.id}`,
    organizationId: ctx.organizationId,
    externalUrl: ctx.origin,
    summary: `Test notification for channel "${channel.name}": it works`,
    alerts: [],
    digest: null,
    digestTotal: null,
    createdAt: ctx.now,
  };
}

/** Told to the owners once when a channel stops working (given up, or disabled by a permanent error). */
export function deliveryFailedNotification(
  failed: { channel: NotifyChannel; reason: string; disabled: boolean },
  to: NotifyChannel,
  ctx: { organizationId: string; origin: string; now: number },
): Notification {
  const what = failed.disabled
    ? `was disabled: ${failed.reason}`
    : `is failing; a notification was given up after every retry (${failed.reason})`;
  return {
    id: newMessageId(),
    channelId: to.id,
    kind: 'delivery_failed',
    level: null,
    ruleId: null,
    ruleName: null,
    groupKey: `channel:${failed.channel.id}`,
    organizationId: ctx.organizationId,
    externalUrl: ctx.origin,
    summary: `Notification channel "${failed.channel.name}" ${what}`,
    alerts: [],
    digest: null,
    digestTotal: null,
    createdAt: ctx.now,
  };
}
