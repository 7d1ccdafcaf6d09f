import type { AlertLevel, NotificationKind, NotifiedAlert } from '@pulsewire/protocol';
import type { AlertTransition } from '../alerts/types.ts';
import {
  addToDigest,
  alertNotification,
  chunkAlerts,
  type DigestState,
  digestNotification,
  emptyDigest,
  fits,
  newMessageId,
  notifiedAlert,
} from './messages.ts';
import { channelsOf, higherLevel, levelRank, takesLevel } from './routing.ts';
import { quietPeriod } from './schedule.ts';
import { StateCache } from './state-cache.ts';
import { suppressionOf } from './suppression.ts';
import type { DeliveryRecord, Notification, NotifyChannel, NotifyContext, NotifyRule, NotifyStorage } from './types.ts';

/**
 * Decides who is told what, and when (design.md "Alerts", Notifying). Fed the engine's transitions
 * and woken by the object's alarm at `nextDueAt`; returns complete messages for the outbox and
 * delivery-log records for what it held back. Its state (pending groups, reminders, flapping
 * marks, budgets, held messages) lives in the object's storage under `notify:` and is written only
 * when it changes.
 *
 * - New firing alerts of one rule wait `groupWaitSeconds` for each other and go out as one message.
 * - Escalations (warning → critical), resolutions (with duration and peak) and flapping notices go
 *   out at once; those of one rule in one run share a message.
 * - Reminders every `renotifyMinutes` while firing, not stale and not acknowledged.
 * - A flapping series gets one notice, then nothing until a transition says it is stable again.
 * - Silences and maintenance windows suppress (logged with the reason); a suppressed alert that is
 *   still firing when the suppression ends is notified then.
 * - Per channel: quiet hours hold all but critical messages until they end, and past the hourly
 *   budget messages are counted into one digest at the end of the clock hour.
 */

const P = 'notify:';
const K = {
  alert: `${P}alert:`,
  group: `${P}group:`,
  flap: `${P}flap:`,
  budget: `${P}budget:`,
  held: `${P}held:`,
};
const HOUR = 3_600_000;
/** A flapping mark nobody cleared (the series went quiet while flapping) is forgotten after this. */
const FLAP_MARK_TTL = 7 * 24 * HOUR;

/** A firing alert the notifier knows about, until it resolves. */
interface AlertRecord {
  ruleId: string;
  snapshot: NotifiedAlert;
  /** Highest level anyone was told (resolutions go where the alert went). */
  level: AlertLevel;
  /** A notice went out or waits in a group; false while suppressed since it fired. */
  notified: boolean;
  acknowledged: boolean;
  stale: boolean;
  /** Next reminder (notified) or next look once the suppression ends (not notified). */
  nextAt: number | null;
}

interface PendingGroup {
  ruleId: string;
  dueAt: number;
  alerts: NotifiedAlert[];
  omitted: number;
}

interface Budget {
  hourStart: number;
  sent: number;
  overflow: DigestState | null;
}

interface Held {
  until: number;
  digest: DigestState;
}

export interface PlanResult {
  /** To enqueue in the outbox, in order. */
  messages: Notification[];
  /** Suppressed and held notifications, for `notification_deliveries`. */
  log: DeliveryRecord[];
  /** When the object's alarm must call `run` again; null when nothing waits. */
  nextDueAt: number | null;
}

interface Batch {
  rule: NotifyRule;
  kind: NotificationKind;
  alerts: Map<string, NotifiedAlert>;
  omitted: number;
}

class Run {
  readonly messages: Notification[] = [];
  readonly log: DeliveryRecord[] = [];
  readonly batches = new Map<string, Batch>();
  readonly ctx: NotifyContext;
  constructor(ctx: NotifyContext) {
    this.ctx = ctx;
  }

  add(rule: NotifyRule, kind: NotificationKind, alert: NotifiedAlert, omitted = 0): void {
    const key = `${rule.id}\u0000${kind}`;
    const batch = this.batches.get(key) ?? { rule, kind, alerts: new Map(), omitted: 0 };
    batch.alerts.set(alert.id, alert);
    batch.omitted += omitted;
    this.batches.set(key, batch);
  }

  record(channelId: string, kind: NotificationKind, alertIds: string[], reason: string): void {
    this.log.push({
      channelId,
      messageId: newMessageId(),
      kind,
      status: 'suppressed',
      attempts: 0,
      latencyMs: null,
      lastStatus: null,
      lastError: null,
      alertIds,
      reason,
      at: this.ctx.now,
    });
  }
}

export class Planner {
  private readonly state: StateCache;

  constructor(storage: NotifyStorage) {
    this.state = new StateCache(storage, P);
  }

  /** Applies transitions (none on an alarm), then whatever is due at `ctx.now`. */
  async run(ctx: NotifyContext, transitions: readonly AlertTransition[] = []): Promise<PlanResult> {
    await this.state.load();
    const run = new Run(ctx);
    for (const t of transitions) this.onTransition(run, t);
    this.dueWork(run);
    this.sendBatches(run);
    await this.state.commit();
    return { messages: run.messages, log: run.log, nextDueAt: this.nextDueAt() };
  }

  /** Acknowledged alerts get no more reminders (escalations and resolutions still go out). */
  async acknowledge(alertIds: readonly string[]): Promise<void> {
    await this.state.load();
    for (const id of alertIds) {
      const record = this.state.get<AlertRecord>(K.alert + id);
      if (!record || record.acknowledged) continue;
      this.state.set(K.alert + id, { ...record, acknowledged: true, nextAt: null });
    }
    await this.state.commit();
  }

  /** Earliest time something is due: a group, a reminder, the end of a suppression, a digest. */
  nextDueAt(): number | null {
    let next: number | null = null;
    const consider = (at: number | null) => {
      if (at !== null && (next === null || at < next)) next = at;
    };
    for (const [, g] of this.state.entries<PendingGroup>(K.group)) consider(g.dueAt);
    for (const [, r] of this.state.entries<AlertRecord>(K.alert)) {
      if (!r.acknowledged && !r.stale) consider(r.nextAt);
    }
    for (const [, h] of this.state.entries<Held>(K.held)) consider(h.until);
    for (const [, b] of this.state.entries<Budget>(K.budget)) if (b.overflow) consider(b.hourStart + HOUR);
    return next;
  }

  // ── transitions ──────────────────────────────────────────────────────────────────────────

  private onTransition(run: Run, t: AlertTransition): void {
    const rule = run.ctx.rules.get(t.ruleId);
    if (!rule) return;
    const alert = notifiedAlert(t, rule, run.ctx);
    const recordKey = K.alert + t.alertId;
    const flapKey = K.flap + alert.dedupKey;

    if (t.flapping) {
      if (!this.state.has(flapKey)) {
        this.state.set(flapKey, { since: run.ctx.now });
        this.notifyOrSuppress(run, rule, 'flapping', alert);
      }
      // Quiet until stable: no reminder, no resolution, no grouped message for this series.
      this.state.remove(recordKey);
      this.removeFromGroup(rule.id, t.alertId);
      return;
    }
    if (this.state.has(flapKey)) {
      this.state.remove(flapKey);
      if (t.to === 'ok') {
        // It settled resolved: say so, since the flapping notice left people waiting for news.
        if (rule.notify.notifyResolved && t.from !== 'pending') this.notifyOrSuppress(run, rule, 'resolved', alert);
        return;
      }
    }

    const record = this.state.get<AlertRecord>(recordKey);
    switch (t.to) {
      case 'firing':
        this.onFiring(run, rule, alert, record);
        return;
      case 'ok':
        this.onResolved(run, rule, t, alert, record);
        return;
      case 'stale':
        // Neither firing nor resolved: no reminders while the host is silent (host down speaks for it).
        if (record) this.state.set(recordKey, { ...record, stale: true });
        return;
      default:
        return;
    }
  }

  private onFiring(run: Run, rule: NotifyRule, alert: NotifiedAlert, record: AlertRecord | undefined): void {
    const key = K.alert + alert.id;
    const now = run.ctx.now;
    const reminderAt = rule.notify.renotifyMinutes > 0 ? now + rule.notify.renotifyMinutes * 60_000 : null;
    if (!record) {
      const suppressed = suppressionOf(alert, run.ctx);
      if (suppressed) this.logSuppressed(run, rule, 'firing', alert, suppressed.reason);
      else this.addToGroup(run, rule, alert);
      this.state.set<AlertRecord>(key, {
        ruleId: rule.id,
        snapshot: alert,
        level: alert.level,
        notified: !suppressed,
        acknowledged: false,
        stale: false,
        nextAt: suppressed ? suppressed.until : reminderAt,
      });
      return;
    }
    const next: AlertRecord = { ...record, snapshot: alert, stale: false };
    if (levelRank[alert.level] > levelRank[record.level]) {
      next.level = alert.level;
      // Still waiting in its group: the grouped message will carry the higher level.
      if (!this.updateGroupEntry(rule.id, alert)) {
        const suppressed = suppressionOf(alert, run.ctx);
        if (suppressed) this.logSuppressed(run, rule, 'escalated', alert, suppressed.reason);
        else {
          run.add(rule, 'escalated', alert);
          next.notified = true;
          if (!next.acknowledged) next.nextAt = reminderAt;
        }
      }
    } else {
      this.updateGroupEntry(rule.id, alert);
    }
    this.state.set(key, next);
  }

  private onResolved(
    run: Run,
    rule: NotifyRule,
    t: AlertTransition,
    alert: NotifiedAlert,
    record: AlertRecord | undefined,
  ): void {
    if (record) this.state.remove(K.alert + alert.id);
    if (t.from === 'pending') return;
    // Resolved before its group went out: the grouped message says so, and nothing else is needed.
    if (this.updateGroupEntry(rule.id, alert)) return;
    if (!record?.notified || !rule.notify.notifyResolved) return;
    // Sent where the alert went: at the highest level anyone was told.
    this.notifyOrSuppress(run, rule, 'resolved', { ...alert, level: higherLevel(record.level, alert.level) });
  }

  private notifyOrSuppress(run: Run, rule: NotifyRule, kind: NotificationKind, alert: NotifiedAlert): void {
    const suppressed = suppressionOf(alert, run.ctx);
    if (suppressed) this.logSuppressed(run, rule, kind, alert, suppressed.reason);
    else run.add(rule, kind, alert);
  }

  private logSuppressed(run: Run, rule: NotifyRule, kind: NotificationKind, alert: NotifiedAlert, reason: string) {
    for (const channel of channelsOf(rule, run.ctx.channels)) {
      if (takesLevel(channel, alert.level)) run.record(channel.id, kind, [alert.id], reason);
    }
  }

  // ── groups ───────────────────────────────────────────────────────────────────────────────

  private addToGroup(run: Run, rule: NotifyRule, alert: NotifiedAlert): void {
    const key = K.group + rule.id;
    const group = this.state.get<PendingGroup>(key) ?? {
      ruleId: rule.id,
      dueAt: run.ctx.now + rule.notify.groupWaitSeconds * 1000,
      alerts: [],
      omitted: 0,
    };
    // Past the bounds of one message the rest are counted: the message says "and N more".
    if (fits(group.alerts, alert)) group.alerts.push(alert);
    else group.omitted++;
    this.state.set(key, group);
  }

  private updateGroupEntry(ruleId: string, alert: NotifiedAlert): boolean {
    const key = K.group + ruleId;
    const group = this.state.get<PendingGroup>(key);
    const i = group ? group.alerts.findIndex((a) => a.id === alert.id) : -1;
    if (!group || i < 0) return false;
    group.alerts[i] = alert;
    this.state.set(key, group);
    return true;
  }

  private removeFromGroup(ruleId: string, alertId: string): void {
    const key = K.group + ruleId;
    const group = this.state.get<PendingGroup>(key);
    if (!group?.alerts.some((a) => a.id === alertId)) return;
    const alerts = group.alerts.filter((a) => a.id !== alertId);
    if (alerts.length === 0 && group.omitted === 0) this.state.remove(key);
    else this.state.set(key, { ...group, alerts });
  }

  // ── what is due ──────────────────────────────────────────────────────────────────────────

  private dueWork(run: Run): void {
    const { ctx } = run;
    const now = ctx.now;
    for (const [key, mark] of this.state.entries<{ since: number }>(K.flap)) {
      if (mark.since + FLAP_MARK_TTL <= now) this.state.remove(key);
    }
    for (const [key, held] of this.state.entries<Held>(K.held)) {
      if (held.until > now) continue;
      this.state.remove(key);
      const channel = ctx.channels.find((c) => c.id === key.slice(K.held.length));
      if (channel?.enabled) run.messages.push(digestNotification(ctx, channel.id, held.digest, 'quiet hours'));
    }
    for (const [key, budget] of this.state.entries<Budget>(K.budget)) {
      if (!budget.overflow || budget.hourStart + HOUR > now) continue;
      this.state.remove(key);
      const channel = ctx.channels.find((c) => c.id === key.slice(K.budget.length));
      if (channel?.enabled) this.flushOverflow(run, channel, budget.overflow);
    }
    for (const [key, group] of this.state.entries<PendingGroup>(K.group)) {
      if (group.dueAt > now) continue;
      this.state.remove(key);
      const rule = ctx.rules.get(group.ruleId);
      if (!rule) continue;
      for (const alert of group.alerts) {
        // A silence created during the wait still counts.
        const suppressed = alert.state === 'resolved' ? null : suppressionOf(alert, ctx);
        if (!suppressed) {
          run.add(rule, 'firing', alert);
          continue;
        }
        this.logSuppressed(run, rule, 'firing', alert, suppressed.reason);
        const record = this.state.get<AlertRecord>(K.alert + alert.id);
        if (record) this.state.set(K.alert + alert.id, { ...record, notified: false, nextAt: suppressed.until });
      }
      if (group.omitted > 0) {
        const batch = run.batches.get(`${rule.id}\u0000firing`);
        if (batch) batch.omitted += group.omitted;
      }
    }
    for (const [key, record] of this.state.entries<AlertRecord>(K.alert)) {
      if (record.nextAt === null || record.nextAt > now || record.acknowledged || record.stale) continue;
      const rule = ctx.rules.get(record.ruleId);
      if (!rule) {
        // The rule is gone: nothing will resolve this alert through us, and a past `nextAt` would spin the alarm.
        this.state.remove(key);
        continue;
      }
      const renotifyMs = rule.notify.renotifyMinutes * 60_000;
      const suppressed = suppressionOf(record.snapshot, ctx);
      if (suppressed) {
        this.state.set(key, { ...record, nextAt: suppressed.until });
        continue;
      }
      run.add(rule, record.notified ? 'renotify' : 'firing', record.snapshot);
      this.state.set(key, { ...record, notified: true, nextAt: renotifyMs > 0 ? now + renotifyMs : null });
    }
  }

  // ── per channel: routing, quiet hours, budget ────────────────────────────────────────────

  private sendBatches(run: Run): void {
    for (const batch of run.batches.values()) {
      const alerts = [...batch.alerts.values()];
      for (const channel of channelsOf(batch.rule, run.ctx.channels)) {
        const chunks = chunkAlerts(alerts.filter((a) => takesLevel(channel, a.level)));
        for (const [i, chunk] of chunks.entries()) {
          const message = alertNotification(run.ctx, channel.id, batch.kind, batch.rule, chunk);
          if (batch.omitted > 0 && i === 0) message.summary += ` (and ${batch.omitted} more)`;
          this.dispatch(run, channel, message, true);
        }
      }
    }
  }

  private dispatch(run: Run, channel: NotifyChannel, message: Notification, counted: boolean): void {
    const now = run.ctx.now;
    const alertIds = message.alerts.map((a) => a.id);
    const quiet = channel.quietHours && message.level !== 'critical' ? quietPeriod(channel.quietHours, now) : null;
    if (quiet) {
      const key = K.held + channel.id;
      const held = this.state.get<Held>(key) ?? { until: quiet.end, digest: emptyDigest() };
      this.state.set<Held>(key, { until: held.until, digest: addToDigest(held.digest, message) });
      run.record(channel.id, message.kind, alertIds, `held for quiet hours; in the digest at ${iso(held.until)}`);
      return;
    }
    if (counted) {
      const key = K.budget + channel.id;
      const hourStart = Math.floor(now / HOUR) * HOUR;
      let budget = this.state.get<Budget>(key);
      if (budget && budget.hourStart !== hourStart) {
        if (budget.overflow) this.flushOverflow(run, channel, budget.overflow);
        budget = undefined;
      }
      budget ??= { hourStart, sent: 0, overflow: null };
      if (budget.sent >= channel.hourlyBudget) {
        const overflow = addToDigest(budget.overflow ?? emptyDigest(), message);
        this.state.set<Budget>(key, { ...budget, overflow });
        run.record(
          channel.id,
          message.kind,
          alertIds,
          `over the hourly budget; in the digest at ${iso(hourStart + HOUR)}`,
        );
        return;
      }
      this.state.set<Budget>(key, { ...budget, sent: budget.sent + 1 });
    }
    run.messages.push(message);
  }

  /** The budget digest is not counted against the next hour, but quiet hours still hold it. */
  private flushOverflow(run: Run, channel: NotifyChannel, overflow: DigestState): void {
    this.dispatch(run, channel, digestNotification(run.ctx, channel.id, overflow, 'hourly budget'), false);
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
