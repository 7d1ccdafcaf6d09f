import type {
  AlertLevel,
  ChannelConfig,
  deliveryStatuses,
  LabelMatcher,
  NotificationKind,
  NotifiedAlert,
  QuietHours,
  RuleNotify,
  Weekday,
} from '@pulsewire/protocol';

/**
 * What the notifier (`worker/src/notify/`) works with. The tenant object loads rules, channels,
 * silences and windows from Postgres and hands them over as these shapes; the notifier hands back
 * messages, delivery-log records and the time it next needs the object's alarm.
 */

/**
 * The slice of Durable Object storage the notifier uses. `ctx.storage` satisfies it as is; tests
 * pass `memoryStorage()`. Values must be structured-cloneable.
 */
export interface NotifyStorage {
  get<T>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
  delete(key: string): Promise<boolean>;
  list<T>(options: { prefix: string }): Promise<Map<string, T>>;
}

/** What notifying needs of a rule. */
export interface NotifyRule {
  id: string;
  name: string;
  runbook: string;
  notify: RuleNotify;
}

/** A channel with its secrets, as the object loads it (never sent to a client). */
export interface NotifyChannel {
  id: string;
  name: string;
  enabled: boolean;
  minLevel: AlertLevel;
  /** Whole: the Slack URL and webhook URL as stored. */
  config: ChannelConfig;
  quietHours: QuietHours | null;
  hourlyBudget: number;
  /** Webhook signing secrets (`whsec_…`), newest first; two while a rotation is in its grace period. */
  secrets: string[];
}

/** A silence with its times as epoch ms. */
export interface NotifySilence {
  id: string;
  matchers: LabelMatcher[];
  startsAt: number;
  endsAt: number;
}

export interface NotifyMaintenanceWindow {
  id: string;
  name: string;
  timeZone: string;
  days: Weekday[];
  /** `HH:MM`, local to `timeZone`. */
  start: string;
  durationMinutes: number;
  matchers: LabelMatcher[];
  enabled: boolean;
}

/** Everything one notifier run needs besides the transitions. */
export interface NotifyContext {
  organizationId: string;
  /** Dashboard origin for links (`https://app.example.com`), no trailing slash. */
  origin: string;
  now: number;
  rules: ReadonlyMap<string, NotifyRule>;
  channels: readonly NotifyChannel[];
  silences: readonly NotifySilence[];
  maintenanceWindows: readonly NotifyMaintenanceWindow[];
  /** Host id → name, for messages and for `host_name` matchers. */
  hostNames: ReadonlyMap<string, string>;
}

/** One line of a digest: a message that was held (quiet hours) or over the hourly budget. */
export interface DigestEntry {
  kind: NotificationKind;
  ruleName: string | null;
  summary: string;
  level: AlertLevel | null;
  at: number;
}

/**
 * One message for one channel, complete: the outbox stores it and each channel renders it at send
 * time. `id` is the webhook-id (Standard Webhooks) and Resend's idempotency key: stable across retries.
 */
export interface Notification {
  id: string;
  channelId: string;
  kind: NotificationKind;
  /** Highest level among the alerts; null for notices about the service itself (delivery_failed, test). */
  level: AlertLevel | null;
  ruleId: string | null;
  ruleName: string | null;
  groupKey: string;
  organizationId: string;
  /** Dashboard origin. */
  externalUrl: string;
  summary: string;
  alerts: NotifiedAlert[];
  /** `digest`: what was held back (capped; `digestTotal` says how many in all). */
  digest: DigestEntry[] | null;
  digestTotal: number | null;
  createdAt: number;
}

export type DeliveryStatus = (typeof deliveryStatuses)[number];

/** One row for `notification_deliveries`: the object writes it, the notifier only returns it. */
export interface DeliveryRecord {
  channelId: string;
  messageId: string;
  kind: NotificationKind;
  status: DeliveryStatus;
  attempts: number;
  latencyMs: number | null;
  lastStatus: number | null;
  lastError: string | null;
  alertIds: string[];
  /** Why it was suppressed or held (silence, maintenance window, quiet hours, hourly budget). */
  reason: string | null;
  at: number;
}

/** What a channel module says about one attempt. */
export type SendResult =
  | { outcome: 'delivered'; status: number | null }
  | { outcome: 'retry'; status: number | null; error: string; retryAfterMs?: number }
  /** The target will never accept this (Slack `channel_not_found`, webhook 410): disable the channel. */
  | { outcome: 'permanent'; status: number | null; error: string };

export interface SendOptions {
  signal: AbortSignal;
  now: number;
}

export type Sender = (channel: NotifyChannel, message: Notification, options: SendOptions) => Promise<SendResult>;
