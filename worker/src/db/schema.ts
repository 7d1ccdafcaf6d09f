/**
 * The system of record (design.md, "Storage"). One file so the whole model reads in one sitting;
 * drizzle-kit generates the SQL in /drizzle from it. Every tenant-owned row carries `tenant_id`
 * and every query filters on it.
 */
import type { ChannelConfig, LabelMatcher, QuietHours, RuleSpec, Weekday } from '@pulsewire/protocol';
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  real,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const id = () => uuid('id').primaryKey().default(sql`gen_random_uuid()`);
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const tenantRef = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });

// ── accounts ──────────────────────────────────────────────────────────────────────────────

export const tenants = pgTable(
  'tenants',
  {
    id: id(),
    name: text('name').notNull(),
    slug: text('slug').notNull().unique(),
    createdAt: createdAt(),
    /**
     * Deleting an organisation only sets this (and removes its memberships, revokes its keys and deletes its
     * hosts the same way): the scheduled purge (worker/src/jobs/purge-deleted.ts) removes its rows in bounded
     * chunks, so no request scans the largest tables.
     */
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    /**
     * History kept, in days, per tier when the organisation lowered it (null: the default, see
     * worker/src/history/retention.ts). Never above the default: the partitions are dropped at the default.
     */
    retentionRawDays: integer('retention_raw_days'),
    retention1mDays: integer('retention_1m_days'),
    retention1hDays: integer('retention_1h_days'),
  },
  (t) => [index('tenants_deleted_idx').on(t.deletedAt).where(sql`${t.deletedAt} IS NOT NULL`)],
);

export const users = pgTable(
  'users',
  {
    id: id(),
    /** Stored lower-cased; uniqueness is on the lower-cased value. */
    email: text('email').notNull(),
    name: text('name'),
    /** Versioned: `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`, so the scheme can be raised later. */
    passwordHash: text('password_hash').notNull(),
    emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('users_email_key').on(t.email)],
);

export const memberRole = pgEnum('member_role', ['owner', 'admin', 'viewer']);

export const memberships = pgTable(
  'memberships',
  {
    tenantId: tenantRef(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: memberRole('role').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId] }), index('memberships_user_idx').on(t.userId)],
);

export const sessions = pgTable(
  'sessions',
  {
    id: id(),
    /** SHA-256 of the cookie token, hex; the token itself is never stored. */
    tokenHash: text('token_hash').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The organisation the user is working in; switching organisations updates it. */
    activeTenantId: uuid('active_tenant_id').references(() => tenants.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    ipAddress: text('ip_address'),
    userAgent: text('user_agent'),
  },
  (t) => [
    uniqueIndex('sessions_token_hash_key').on(t.tokenHash),
    index('sessions_user_idx').on(t.userId),
    // Purging an organisation sets this to null in every session that points at it.
    index('sessions_active_tenant_idx').on(t.activeTenantId),
  ],
);

export const apiKeyScope = pgEnum('api_key_scope', ['ingest', 'read']);

export const apiKeys = pgTable(
  'api_keys',
  {
    id: id(),
    tenantId: tenantRef(),
    name: text('name').notNull(),
    /** The visible start of the key (e.g. `pw_live_ab12`), for recognising it in lists and logs. */
    prefix: text('prefix').notNull(),
    /** SHA-256 of the whole secret, hex. */
    secretHash: text('secret_hash').notNull(),
    scope: apiKeyScope('scope').notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('api_keys_secret_hash_key').on(t.secretHash),
    index('api_keys_tenant_idx').on(t.tenantId),
    index('api_keys_created_by_idx').on(t.createdBy),
  ],
);

// ── hosts and ingest ──────────────────────────────────────────────────────────────────────

export const hosts = pgTable(
  'hosts',
  {
    id: id(),
    tenantId: tenantRef(),
    name: text('name').notNull(),
    /**
     * Machine identity reported at enrollment (e.g. /etc/machine-id). Not unique: cloned machines share one.
     * A host is its key pair; the machine id only says which host an admin-allowed key replacement may take over.
     */
    machineId: text('machine_id').notNull(),
    /** Raw 32-byte Ed25519 public key, base64url. The same key enrolling again is the same host. */
    publicKey: text('public_key').notNull(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull().default({}),
    facts: jsonb('facts').$type<Record<string, unknown>>().notNull().default({}),
    agentVersion: text('agent_version'),
    enrolledWithKeyId: uuid('enrolled_with_key_id').references(() => apiKeys.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
    /** Highest batch sequence number accepted, for replay detection. */
    lastSeq: bigint('last_seq', { mode: 'number' }).notNull().default(0),
    /** Revoked hosts stay revoked: their agent gets 403 `host_revoked`, enrollment never revives them. */
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    /**
     * Until then, the next enrollment of this machine id with a new key takes this host over (an admin's
     * `POST /hosts/:id/replace-key`, audited); otherwise a new key is a new host.
     */
    keyReplaceUntil: timestamp('key_replace_until', { withTimezone: true }),
    /** Deleted: hidden from every read at once, its rows purged later in bounded chunks. */
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('hosts_tenant_public_key_key').on(t.tenantId, t.publicKey).where(sql`${t.deletedAt} IS NULL`),
    index('hosts_tenant_machine_idx').on(t.tenantId, t.machineId),
    // The host list's keyset order.
    index('hosts_tenant_name_id_idx').on(t.tenantId, t.name, t.id),
    index('hosts_enrolled_with_key_idx').on(t.enrolledWithKeyId),
    index('hosts_deleted_idx').on(t.deletedAt).where(sql`${t.deletedAt} IS NOT NULL`),
  ],
);

/** Batch ids already stored, so a retried batch is acknowledged and stored once. */
export const ingestBatches = pgTable(
  'ingest_batches',
  {
    tenantId: tenantRef(),
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    batchId: uuid('batch_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    sampleCount: integer('sample_count').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.hostId, t.batchId] }),
    // A stored seq arriving under another batch id is a replay (or a cloned host key): refused with 409.
    uniqueIndex('ingest_batches_host_seq_key').on(t.hostId, t.seq),
    index('ingest_batches_received_idx').on(t.receivedAt),
    index('ingest_batches_tenant_idx').on(t.tenantId),
  ],
);

/**
 * The landing table: one row per host per collection, as ingest wrote it (append-only, idempotent on
 * (host, ts)). Partitioned by hour (migration 0005, worker/src/history/partitions.ts); an hour is compacted
 * into `history_raw` chunks once closed, and its partition dropped a few hours later. What arrives for an
 * hour with no partition lands in the default partition, which compaction empties.
 */
export const hostSamples = pgTable(
  'host_samples',
  {
    tenantId: tenantRef(),
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    ts: timestamp('ts', { withTimezone: true }).notNull(),
    sample: jsonb('sample').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.hostId, t.ts] }), index('host_samples_tenant_ts_idx').on(t.tenantId, t.ts)],
);

// ── history tiers (design.md "Storage"; worker/src/history) ───────────────────────────────

/**
 * A bytea value as the driver hands it over, as a Uint8Array. A chart reads a few hundred kB of chunks: the
 * driver's buffer is viewed, not copied, and hex text (a driver that leaves bytea unparsed) is read by
 * character code rather than a substring and a parseInt per byte.
 */
export function bytesFromDriver(value: string | Uint8Array): Uint8Array {
  if (value instanceof Uint8Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value !== 'string') return new Uint8Array(value);
  const start = value.startsWith('\\x') ? 2 : 0;
  const out = new Uint8Array((value.length - start) / 2);
  const nibble = (code: number) => (code <= 57 ? code - 48 : (code | 32) - 87);
  for (let i = 0, at = start; i < out.length; i++, at += 2) {
    out[i] = (nibble(value.charCodeAt(at)) << 4) | nibble(value.charCodeAt(at + 1));
  }
  return out;
}

/** bytea as Uint8Array; written as a hex literal so every driver (Neon's, pg, the PGlite relay) agrees. */
export const bytes = customType<{ data: Uint8Array; driverData: string | Uint8Array }>({
  dataType: () => 'bytea',
  toDriver: (value) => `\\x${Array.from(value, (b) => b.toString(16).padStart(2, '0')).join('')}`,
  fromDriver: bytesFromDriver,
});

/**
 * One immutable, size-encoded chunk (worker/src/history/chunk-codec.ts) of one host's series of one family
 * (`cpu`, `disk`, `custom`...) over one period: raw points in `history_raw` (an hour, or a closed day), a day
 * of 1-minute or 15-minute min/avg/max/count in `history_1m` / `history_15m`, a month of 1-hour ones in
 * `history_1h`. Rewritten whole, never appended to. Each table is partitioned by `period_start` (migration 0005)
 * so retention drops whole partitions. No foreign key to the tenant (an index per chunk table for it would cost
 * more than it saves); the host's key cascades.
 */
const chunkColumns = () => ({
  tenantId: uuid('tenant_id').notNull(),
  hostId: uuid('host_id')
    .notNull()
    .references(() => hosts.id, { onDelete: 'cascade' }),
  family: text('family').notNull(),
  periodStart: timestamp('period_start', { withTimezone: true }).notNull(),
  /** Points (raw) or buckets (rollups) in the chunk. */
  pointCount: integer('point_count').notNull(),
  payload: bytes('payload').notNull(),
});

const historyChunkTable = (name: string) =>
  pgTable(name, chunkColumns(), (t) => [primaryKey({ columns: [t.hostId, t.family, t.periodStart] })]);

/**
 * Raw chunks: one per host, family and hour while the day is open, then one per host, family and day once the
 * day is closed and rolled up (worker/src/history/raw-days.ts; migration 0007). `period_hours` says which, so
 * a reader finds the chunk holding a given hour, and retention knows where a chunk ends.
 */
export const historyRaw = pgTable(
  'history_raw',
  {
    ...chunkColumns(),
    /** Hours from `period_start` the chunk covers: 1 (an hour's chunk) or 24 (a closed day's). */
    periodHours: smallint('period_hours').notNull().default(1),
  },
  (t) => [primaryKey({ columns: [t.hostId, t.family, t.periodStart] })],
);
export const history1m = historyChunkTable('history_1m');
export const history15m = historyChunkTable('history_15m');
export const history1h = historyChunkTable('history_1h');

/**
 * Where each history job stands (`compact`: hours compacted up to `done_until`; `rollup`: days rolled up), and
 * a lease so that overlapping cron runs do not do the same work twice.
 */
export const historyJobs = pgTable('history_jobs', {
  name: text('name').primaryKey(),
  doneUntil: timestamp('done_until', { withTimezone: true }),
  /** Within the period after `done_until`: the last host done, so a long period spans several runs. */
  hostCursor: uuid('host_cursor'),
  leaseUntil: timestamp('lease_until', { withTimezone: true }),
});

/**
 * (host, hour) pairs that received data after the hour could already have been compacted (an agent replaying
 * its spool after an outage): compaction merges them into the existing chunks and rolls their day up again.
 */
export const historyLate = pgTable(
  'history_late',
  {
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    hour: timestamp('hour', { withTimezone: true }).notNull(),
    markedAt: timestamp('marked_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.hostId, t.hour] })],
);

// ── alerting ──────────────────────────────────────────────────────────────────────────────

/** Denormalised from the spec's `condition.kind`, for listing; the spec is the truth. */
export const ruleKind = pgEnum('rule_kind', ['threshold', 'rate', 'no_data', 'forecast', 'anomaly', 'reboot', 'event']);
export const alertLevel = pgEnum('alert_level', ['warning', 'critical']);

/** A rule's spec as stored: `RuleInput` after validation (defaults filled), less the columns beside it. */
export type StoredRuleSpec = Omit<RuleSpec, 'name' | 'enabled'>;

export const alertRules = pgTable(
  'alert_rules',
  {
    id: id(),
    tenantId: tenantRef(),
    name: text('name').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    kind: ruleKind('kind').notNull(),
    /** Condition, scope, notify, labels, description, runbook, for / keep-firing-for (protocol `RuleInput`). */
    spec: jsonb('spec').$type<StoredRuleSpec>().notNull(),
    /** One of the defaults every organisation starts with (worker/src/alerts/defaults.ts). */
    builtIn: boolean('built_in').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('alert_rules_tenant_idx').on(t.tenantId)],
);

export const alertState = pgEnum('alert_state', ['pending', 'firing', 'resolved', 'stale']);

/**
 * One row per alert instance (rule, host, series), keyed by the engine's alert id and upserted on each
 * transition pending → firing → resolved (or stale while its host is silent). `rule_id` has no foreign
 * key on purpose: history outlives a deleted rule, and `rule_name` keeps the name it fired under.
 */
export const alertEvents = pgTable(
  'alert_events',
  {
    id: id(),
    tenantId: tenantRef(),
    ruleId: uuid('rule_id').notNull(),
    ruleName: text('rule_name').notNull(),
    hostId: uuid('host_id').references(() => hosts.id, { onDelete: 'cascade' }),
    /** Which series of the rule's metric (`disk.used_pct{mount="/"}`); empty for host-level rules. */
    seriesKey: text('series_key').notNull().default(''),
    /** Series labels plus the rule's labels. */
    labels: jsonb('labels').$type<Record<string, string>>().notNull().default({}),
    state: alertState('state').notNull(),
    level: alertLevel('level').notNull(),
    value: doublePrecision('value'),
    /** Worst value since the instance started. */
    peak: doublePrecision('peak'),
    threshold: doublePrecision('threshold'),
    message: text('message').notNull().default(''),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    firedAt: timestamp('fired_at', { withTimezone: true }),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
    acknowledgedBy: uuid('acknowledged_by').references(() => users.id, { onDelete: 'set null' }),
    /** Matched a silence or maintenance window when it last changed: recorded and shown, notified to nobody. */
    silenced: boolean('silenced').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('alert_events_tenant_state_idx').on(t.tenantId, t.state),
    index('alert_events_tenant_started_idx').on(t.tenantId, t.startedAt),
    index('alert_events_tenant_rule_idx').on(t.tenantId, t.ruleId),
    index('alert_events_host_idx').on(t.hostId),
    index('alert_events_acknowledged_by_idx').on(t.acknowledgedBy),
    // Retention deletes resolved alerts across tenants by age, a chunk at a time: without it each chunk scans.
    index('alert_events_resolved_at_idx').on(t.resolvedAt).where(sql`state = 'resolved'`),
  ],
);

export const channelType = pgEnum('channel_type', ['email', 'slack', 'webhook']);

export const notificationChannels = pgTable(
  'notification_channels',
  {
    id: id(),
    tenantId: tenantRef(),
    /** Denormalised from `config.type`. */
    type: channelType('type').notNull(),
    name: text('name').notNull(),
    /** Protocol `ChannelConfig`: recipients, the Slack webhook URL, or the webhook URL. */
    config: jsonb('config').$type<ChannelConfig>().notNull(),
    minLevel: alertLevel('min_level').notNull().default('warning'),
    enabled: boolean('enabled').notNull().default(true),
    quietHours: jsonb('quiet_hours').$type<QuietHours>(),
    hourlyBudget: integer('hourly_budget').notNull().default(30),
    /** Why delivery disabled the channel (Slack `channel_not_found`, webhook 410); cleared by an edit. */
    disabledReason: text('disabled_reason'),
    builtIn: boolean('built_in').notNull().default(false),
    /**
     * Webhook signing secrets (`whsec_…`). Stored as they are, not hashed: the notifier must sign
     * with them (docs/decisions.md). After a rotation the previous one signs too until it expires.
     */
    secret: text('secret'),
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('notification_channels_tenant_idx').on(t.tenantId)],
);

export const deliveryStatus = pgEnum('delivery_status', ['queued', 'sent', 'failed', 'retrying', 'suppressed']);

/** The delivery log users see: each message's outcome per channel. */
export const notificationDeliveries = pgTable(
  'notification_deliveries',
  {
    id: id(),
    tenantId: tenantRef(),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => notificationChannels.id, { onDelete: 'cascade' }),
    /** The outbox message (the webhook's `webhook-id`), stable across its attempts. */
    messageId: text('message_id'),
    /** Alerts the message carried (several when grouped or a digest); alert ids, not foreign keys. */
    alertIds: uuid('alert_ids').array().notNull().default(sql`'{}'::uuid[]`),
    kind: text('kind').notNull(),
    status: deliveryStatus('status').notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** HTTP status of the last attempt, when there was one. */
    lastStatus: integer('last_status'),
    /** Round-trip of the last attempt, ms. */
    latencyMs: real('latency_ms'),
    createdAt: createdAt(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [
    index('notification_deliveries_tenant_created_idx').on(t.tenantId, t.createdAt),
    index('notification_deliveries_channel_created_idx').on(t.channelId, t.createdAt),
    // Retention deletes deliveries across tenants by age, a chunk at a time: without it each chunk scans.
    index('notification_deliveries_created_idx').on(t.createdAt),
  ],
);

/** One-off mutes: alerts matching every matcher between `starts_at` and `ends_at` notify nobody. */
export const silences = pgTable(
  'silences',
  {
    id: id(),
    tenantId: tenantRef(),
    matchers: jsonb('matchers').$type<LabelMatcher[]>().notNull(),
    startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
    /** Expiring a silence early sets this to now. */
    endsAt: timestamp('ends_at', { withTimezone: true }).notNull(),
    comment: text('comment').notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [index('silences_tenant_ends_idx').on(t.tenantId, t.endsAt), index('silences_created_by_idx').on(t.createdBy)],
);

/** Recurring mutes (e.g. Sundays 02:00–04:00 Europe/Paris). */
export const maintenanceWindows = pgTable(
  'maintenance_windows',
  {
    id: id(),
    tenantId: tenantRef(),
    name: text('name').notNull(),
    timeZone: text('time_zone').notNull(),
    days: jsonb('days').$type<Weekday[]>().notNull(),
    /** `HH:MM` in `time_zone`. */
    start: text('start').notNull(),
    durationMinutes: integer('duration_minutes').notNull(),
    matchers: jsonb('matchers').$type<LabelMatcher[]>().notNull().default([]),
    enabled: boolean('enabled').notNull().default(true),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('maintenance_windows_tenant_idx').on(t.tenantId),
    index('maintenance_windows_created_by_idx').on(t.createdBy),
  ],
);

// ── account links, invitations, local mail ────────────────────────────────────────────────

export const emailTokenPurpose = pgEnum('email_token_purpose', ['verify_email', 'reset_password', 'change_email']);

/** Single-use, expiring links sent by e-mail; only the token's hash is stored. */
export const emailTokens = pgTable(
  'email_tokens',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    purpose: emailTokenPurpose('purpose').notNull(),
    tokenHash: text('token_hash').notNull(),
    /** For `change_email`: the address being verified. */
    email: text('email').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('email_tokens_token_hash_key').on(t.tokenHash), index('email_tokens_user_idx').on(t.userId)],
);

export const invitations = pgTable(
  'invitations',
  {
    id: id(),
    tenantId: tenantRef(),
    email: text('email').notNull(),
    role: memberRole('role').notNull(),
    tokenHash: text('token_hash').notNull(),
    invitedBy: uuid('invited_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    acceptedAt: timestamp('accepted_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('invitations_token_hash_key').on(t.tokenHash),
    index('invitations_tenant_idx').on(t.tenantId),
    index('invitations_invited_by_idx').on(t.invitedBy),
  ],
);

/** Local mode only: the mail that would have gone out through Resend, shown by the dashboard. */
export const devOutbox = pgTable(
  'dev_outbox',
  {
    id: id(),
    to: text('to').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('dev_outbox_created_idx').on(t.createdAt)],
);

// ── application data from the agent's local intake ───────────────────────────────────────

export const metricKind = pgEnum('metric_kind', ['gauge', 'counter', 'histogram', 'set']);

/** Custom application metrics (StatsD / HTTP intake), one row per flushed point. */
export const customMetricPoints = pgTable(
  'custom_metric_points',
  {
    tenantId: tenantRef(),
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    ts: timestamp('ts', { withTimezone: true }).notNull(),
    kind: metricKind('kind').notNull(),
    /** Gauge value, counter increment, set cardinality, or histogram mean. */
    value: doublePrecision('value').notNull(),
    /** Histograms: count, min, max, percentiles. */
    summary: jsonb('summary').$type<Record<string, number>>(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull().default({}),
  },
  (t) => [
    index('custom_metric_points_host_name_ts_idx').on(t.hostId, t.name, t.ts),
    index('custom_metric_points_tenant_ts_idx').on(t.tenantId, t.ts),
  ],
);

/** Application events such as job started / progress / completed / failed (seed 002). */
export const appEvents = pgTable(
  'app_events',
  {
    id: id(),
    tenantId: tenantRef(),
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    ts: timestamp('ts', { withTimezone: true }).notNull(),
    kind: text('kind').notNull(),
    /** The application's id for the thing the event is about, e.g. a job id. */
    subjectId: text('subject_id'),
    name: text('name'),
    progress: real('progress'),
    message: text('message'),
    labels: jsonb('labels').$type<Record<string, string>>().notNull().default({}),
  },
  (t) => [index('app_events_host_ts_idx').on(t.hostId, t.ts), index('app_events_tenant_ts_idx').on(t.tenantId, t.ts)],
);

// ── audit ─────────────────────────────────────────────────────────────────────────────────

export const auditActorKind = pgEnum('audit_actor_kind', ['user', 'api_key', 'system']);

/**
 * Who did what to which host (replace-key, revoke, delete, a key replacement taken over at enrollment).
 * Actor and target are plain ids, not foreign keys: the record outlives a removed member, key or purged
 * host, so the actor's e-mail or key prefix is copied into `actor_label` at the time.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: id(),
    tenantId: tenantRef(),
    actorKind: auditActorKind('actor_kind').notNull(),
    actorId: uuid('actor_id'),
    actorLabel: text('actor_label').notNull(),
    /** `host.revoked`, `host.deleted`, `host.key_replacement_allowed`, `host.key_replaced`. */
    action: text('action').notNull(),
    targetKind: text('target_kind').notNull(),
    targetId: uuid('target_id').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('audit_log_tenant_at_idx').on(t.tenantId, t.at),
    index('audit_log_tenant_target_idx').on(t.tenantId, t.targetId),
  ],
);
