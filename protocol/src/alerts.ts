import * as z from 'zod';
import { Labels } from './ingest.ts';
import { metricDefinition } from './metric-catalog.ts';
import { isStorableText } from './storable.ts';
import { AlertLevel } from './stream.ts';

/**
 * Alerting contract (design.md, "Alerts"): rules, channels, alerts, silences, maintenance windows
 * and the webhook payload. Shared by the API (validation + OpenAPI), the tenant object's evaluator
 * and notifier, and the dashboard's editors.
 *
 * Refinements carry `params.code` (e.g. `threshold_order`); the API answers them as that code, with
 * the failing field in `path`.
 */

export const MAX_RULES_PER_ORG = 500;
export const MAX_CHANNELS_PER_ORG = 50;
export const MAX_SILENCES_PER_ORG = 500;
export const MAX_MAINTENANCE_WINDOWS_PER_ORG = 100;

export const alertErrorCodes = [
  'unknown_metric',
  'threshold_order',
  'recovery_side',
  'invalid_selector',
  'invalid_time_zone',
  'forbidden_target',
  'too_many_rules',
  'too_many_channels',
  'too_many_silences',
  'channel_not_found',
  'too_many_maintenance_windows',
  'too_many_series',
] as const;
export type AlertErrorCode = (typeof alertErrorCodes)[number];

const uuid = z.uuid();

/** Postgres refuses NUL and unpaired surrogates: such input is a 422, never a 500 (protocol/src/storable.ts). */
const storable = { message: 'contains a NUL character or an unpaired surrogate' };
/** A string the database can hold as given. */
const text = (max: number, min = 0) => z.string().min(min).max(max).refine(isStorableText, storable);
const seconds = (max: number) => z.number().int().min(0).max(max);
const DAY = 86_400;

// ── label selectors ──────────────────────────────────────────────────────────────────────────

export const matchOps = ['=', '!=', '=~', '!~'] as const;
export const LabelMatcher = z
  .object({
    name: text(64, 1),
    op: z.enum(matchOps),
    value: text(200),
  })
  .meta({ id: 'LabelMatcher' });
export type LabelMatcher = z.infer<typeof LabelMatcher>;
/** Up to 16 matchers whose regular expressions compile (`invalid_selector` names the bad one). */
const MatcherList = z
  .array(LabelMatcher)
  .max(16)
  .superRefine((matchers, ctx) => checkMatcherRegexes(matchers, ctx, []));

const selectorTerm = /^\s*([A-Za-z_][A-Za-z0-9_.:-]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

/**
 * Parses `env=prod, role!=db, region=~eu-.*` (Prometheus matcher operators, comma-separated; values
 * may be double-quoted). Regexes are anchored, as in Prometheus. Returns null when malformed.
 */
export function parseLabelSelector(text: string): LabelMatcher[] | null {
  if (text.trim() === '') return [];
  const matchers: LabelMatcher[] = [];
  for (const part of text.split(',')) {
    const found = selectorTerm.exec(part);
    if (!found) return null;
    const [, name, op, raw] = found as unknown as [string, string, LabelMatcher['op'], string];
    const value = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
    if ((op === '=~' || op === '!~') && !validRegex(value)) return null;
    matchers.push({ name, op, value });
  }
  return matchers;
}

function validRegex(source: string): boolean {
  if (source.length > 200) return false;
  try {
    new RegExp(`^(?:${source})$`);
    return true;
  } catch {
    return false;
  }
}

/** True when every matcher holds for `labels` (an absent label reads as ""). */
export function matchesLabels(matchers: readonly LabelMatcher[], labels: Readonly<Record<string, string>>): boolean {
  return matchers.every((m) => {
    const value = labels[m.name] ?? '';
    switch (m.op) {
      case '=':
        return value === m.value;
      case '!=':
        return value !== m.value;
      case '=~':
        return new RegExp(`^(?:${m.value})$`).test(value);
      default:
        return !new RegExp(`^(?:${m.value})$`).test(value);
    }
  });
}

export const LabelSelector = text(1000).refine((s) => parseLabelSelector(s) !== null, {
  message: 'a selector is comma-separated name=value, name!=value, name=~regex or name!~regex',
  params: { code: 'invalid_selector' },
});

// ── time zones and schedules ─────────────────────────────────────────────────────────────────

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return tz.length > 0;
  } catch {
    return false;
  }
}

export const TimeZone = z
  .string()
  .min(1)
  .max(64)
  .refine(isTimeZone, { message: 'an IANA time zone such as Europe/Paris', params: { code: 'invalid_time_zone' } });

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const Weekday = z.enum(weekdays);
export type Weekday = z.infer<typeof Weekday>;
/** `HH:MM`, 24-hour clock, local to the schedule's time zone. */
export const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time as HH:MM (24-hour)');

// ── rules ────────────────────────────────────────────────────────────────────────────────────

export const MetricPath = z
  .string()
  .min(1)
  .max(210)
  .refine((path) => metricDefinition(path) !== null, {
    message: 'not a collected metric (see GET /rules/metrics) nor custom.<name>',
    params: { code: 'unknown_metric' },
  });

/** Which series of a metric a rule watches: the metric, narrowed by label matchers (e.g. mount="/"). */
export const MetricSelector = z
  .object({
    path: MetricPath,
    /** Empty: every series of the metric on each host (one alert per disk, interface…). */
    match: MatcherList.default([]),
  })
  .meta({ id: 'MetricSelector' });
export type MetricSelector = z.infer<typeof MetricSelector>;

export const RuleScope = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('all') }),
    z.object({ type: z.literal('hosts'), hostIds: z.array(uuid).min(1).max(1000) }),
    z.object({ type: z.literal('labels'), selector: LabelSelector }),
  ])
  .meta({ id: 'RuleScope' });
export type RuleScope = z.infer<typeof RuleScope>;

export const aggregations = ['last', 'avg', 'min', 'max', 'p95'] as const;
export const Aggregation = z.enum(aggregations).meta({ id: 'Aggregation' });
export const comparisons = ['gt', 'gte', 'lt', 'lte'] as const;
export const Comparison = z.enum(comparisons).meta({ id: 'Comparison' });
export type Comparison = z.infer<typeof Comparison>;

/** A level's trigger and, optionally, the value it must come back past to resolve (value hysteresis). */
export const LevelThreshold = z
  .object({
    threshold: z.number().min(-1e15).max(1e15),
    /** Defaults to the threshold itself. For gt/gte it must be ≤ threshold; for lt/lte ≥ threshold. */
    recovery: z.number().min(-1e15).max(1e15).optional(),
  })
  .meta({ id: 'LevelThreshold' });
export type LevelThreshold = z.infer<typeof LevelThreshold>;

/** Aggregation windows up to an hour are kept in the tenant object; longer ones are for forecast/anomaly. */
export const MAX_WINDOW_SECONDS = 3600;

const levels = {
  warning: LevelThreshold.optional(),
  critical: LevelThreshold.optional(),
};

export const ThresholdCondition = z
  .object({
    kind: z.literal('threshold'),
    metric: MetricSelector,
    aggregation: Aggregation.default('last'),
    /** 0 with `last`: the newest value. */
    windowSeconds: seconds(MAX_WINDOW_SECONDS).default(0),
    comparison: Comparison.default('gt'),
    ...levels,
  })
  .meta({ id: 'ThresholdCondition' });

/** Change of the metric per `per` over the window: (last − first) / elapsed. */
export const RateCondition = z
  .object({
    kind: z.literal('rate'),
    metric: MetricSelector,
    windowSeconds: z.number().int().min(10).max(MAX_WINDOW_SECONDS).default(300),
    per: z.enum(['second', 'minute', 'hour']).default('minute'),
    comparison: Comparison.default('gt'),
    ...levels,
  })
  .meta({ id: 'RateCondition' });

/** Host down: nothing received for `graceIntervals` × the host's push interval (at least 60 s). */
export const NoDataCondition = z
  .object({
    kind: z.literal('no_data'),
    graceIntervals: z.number().min(1).max(100).default(3),
    level: AlertLevel.default('critical'),
  })
  .meta({ id: 'NoDataCondition' });

/** Reaches `threshold` within `horizonHours`, by linear regression over `lookbackHours` of history. */
export const ForecastCondition = z
  .object({
    kind: z.literal('forecast'),
    metric: MetricSelector,
    lookbackHours: z.number().min(1).max(168).default(6),
    horizonHours: z.number().min(1).max(720).default(24),
    comparison: z.enum(['gt', 'lt']).default('gt'),
    threshold: z.number().min(-1e15).max(1e15),
    level: AlertLevel.default('warning'),
  })
  .meta({ id: 'ForecastCondition' });

/** The window's average strays more than `deviations` robust deviations (MAD) from the baseline's median. */
export const AnomalyCondition = z
  .object({
    kind: z.literal('anomaly'),
    metric: MetricSelector,
    baselineHours: z.number().min(1).max(720).default(168),
    windowSeconds: z.number().int().min(60).max(MAX_WINDOW_SECONDS).default(900),
    deviations: z.number().min(1).max(20).default(5),
    direction: z.enum(['above', 'below', 'both']).default('both'),
    level: AlertLevel.default('warning'),
  })
  .meta({ id: 'AnomalyCondition' });

/** The host's boot time changed. Resolves by itself after `resolveAfterSeconds`. */
export const RebootCondition = z
  .object({
    kind: z.literal('reboot'),
    level: AlertLevel.default('warning'),
    resolveAfterSeconds: seconds(DAY).default(300),
  })
  .meta({ id: 'RebootCondition' });

const eventKind = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/);

/**
 * Application events. `event`: an event of `eventKind` fires (one alert per event subject id,
 * resolving after `resolveAfterSeconds`, or when `clearKind` arrives for the same id).
 * `duration`: a subject that got `startKind` and none of `endKinds` within `maxSeconds`.
 */
export const EventCondition = z
  .discriminatedUnion('mode', [
    z.object({
      kind: z.literal('event'),
      mode: z.literal('event'),
      eventKind: eventKind,
      clearKind: eventKind.optional(),
      match: MatcherList.default([]),
      level: AlertLevel.default('warning'),
      resolveAfterSeconds: seconds(DAY).default(3600),
    }),
    z.object({
      kind: z.literal('event'),
      mode: z.literal('duration'),
      startKind: eventKind.default('job.started'),
      endKinds: z.array(eventKind).min(1).max(8).default(['job.completed', 'job.failed']),
      maxSeconds: z
        .number()
        .int()
        .min(1)
        .max(30 * DAY),
      match: MatcherList.default([]),
      level: AlertLevel.default('warning'),
    }),
  ])
  .meta({ id: 'EventCondition' });

export const RuleCondition = z
  .union([
    ThresholdCondition,
    RateCondition,
    NoDataCondition,
    ForecastCondition,
    AnomalyCondition,
    RebootCondition,
    EventCondition,
  ])
  .meta({ id: 'RuleCondition' });
export type RuleCondition = z.infer<typeof RuleCondition>;
export const ruleKinds = ['threshold', 'rate', 'no_data', 'forecast', 'anomaly', 'reboot', 'event'] as const;
export type RuleKind = (typeof ruleKinds)[number];

export const RuleNotify = z
  .object({
    /** Channels this rule notifies; null: every enabled channel of the organisation. */
    channelIds: z.array(uuid).max(MAX_CHANNELS_PER_ORG).nullable().default(null),
    /** Repeat while firing and unacknowledged; 0: never. Default 4 h. */
    renotifyMinutes: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 60)
      .default(240),
    /** Wait this long for other hosts hitting the same rule, to send one message. */
    groupWaitSeconds: seconds(600).default(30),
    /** Send the resolution (at once, with duration and peak). */
    notifyResolved: z.boolean().default(true),
  })
  .meta({ id: 'RuleNotify' });
export type RuleNotify = z.infer<typeof RuleNotify>;

const ruleText = z.string().trim().min(1).max(200).refine(isStorableText, storable);

const ruleFields = {
  name: ruleText,
  enabled: z.boolean().default(true),
  description: text(2000).default(''),
  /** Runbook: a URL or text, linked from every notification. */
  runbook: text(4000).default(''),
  /** Added to every alert of the rule (routing, silences, payloads). */
  labels: Labels.default({}),
  scope: RuleScope.default({ type: 'all' }),
  condition: RuleCondition,
  /** Pending time: the condition must hold this long before firing. */
  forSeconds: seconds(DAY).default(0),
  /** Time hysteresis: keep firing this long after the condition clears. */
  keepFiringForSeconds: seconds(DAY).default(0),
  notify: RuleNotify.default({ channelIds: null, renotifyMinutes: 240, groupWaitSeconds: 30, notifyResolved: true }),
};

type ThresholdLike = { comparison: Comparison; warning?: LevelThreshold; critical?: LevelThreshold };

/** Threshold order and recovery sides, checked where both levels are known (the API and the editor). */
export function checkThresholds(condition: ThresholdLike, ctx: z.RefinementCtx, at: (string | number)[]): void {
  const { comparison, warning, critical } = condition;
  const above = comparison === 'gt' || comparison === 'gte';
  if (!warning && !critical) {
    ctx.addIssue({
      code: 'custom',
      path: [...at, 'critical'],
      message: 'set a warning or a critical threshold',
      params: { code: 'validation_failed' },
    });
    return;
  }
  if (
    warning &&
    critical &&
    (above ? critical.threshold < warning.threshold : critical.threshold > warning.threshold)
  ) {
    ctx.addIssue({
      code: 'custom',
      path: [...at, 'critical', 'threshold'],
      message: above
        ? 'the critical threshold must be at or above the warning threshold'
        : 'the critical threshold must be at or below the warning threshold',
      params: { code: 'threshold_order' },
    });
  }
  for (const level of ['warning', 'critical'] as const) {
    const t = condition[level];
    if (!t || t.recovery === undefined) continue;
    if (above ? t.recovery > t.threshold : t.recovery < t.threshold) {
      ctx.addIssue({
        code: 'custom',
        path: [...at, level, 'recovery'],
        message: above
          ? `the ${level} recovery must be at or below its threshold (the alert resolves below it)`
          : `the ${level} recovery must be at or above its threshold (the alert resolves above it)`,
        params: { code: 'recovery_side' },
      });
    }
  }
}

function refineRule(rule: { condition?: RuleCondition }, ctx: z.RefinementCtx): void {
  const c = rule.condition;
  if (c && (c.kind === 'threshold' || c.kind === 'rate')) checkThresholds(c, ctx, ['condition']);
  if (c?.kind === 'threshold' && c.aggregation !== 'last' && c.windowSeconds === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['condition', 'windowSeconds'],
      message: `${c.aggregation} needs a window of at least 1 second`,
      params: { code: 'validation_failed' },
    });
  }
}

export const RuleInput = z.object(ruleFields).superRefine(refineRule).meta({ id: 'RuleInput' });
export type RuleInput = z.input<typeof RuleInput>;
export type RuleSpec = z.output<typeof RuleInput>;

/** PATCH: any subset; a `condition` given is replaced whole. */
export const RulePatch = z
  .object({
    name: ruleText.optional(),
    enabled: z.boolean().optional(),
    description: text(2000).optional(),
    runbook: text(4000).optional(),
    labels: Labels.optional(),
    scope: RuleScope.optional(),
    condition: RuleCondition.optional(),
    forSeconds: seconds(DAY).optional(),
    keepFiringForSeconds: seconds(DAY).optional(),
    notify: RuleNotify.partial().optional(),
  })
  .superRefine(refineRule)
  .meta({ id: 'RulePatch' });
export type RulePatch = z.input<typeof RulePatch>;

export const Rule = z
  .object({
    id: uuid,
    ...ruleFields,
    /** Created for every organisation; editable and removable like any other. */
    builtIn: z.boolean(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Rule' });
export type Rule = z.infer<typeof Rule>;
export const RuleList = z.object({ rules: z.array(Rule) }).meta({ id: 'RuleList' });

/** `GET /rules/metrics`: what a rule can watch, for the editor. */
export const MetricCatalogEntry = z
  .object({
    path: z.string(),
    title: z.string(),
    unit: z.string(),
    dimension: z.string().optional(),
    /** Label values seen on this organisation's hosts (mounts, interfaces…), for pickers. */
    series: z.array(z.record(z.string(), z.string())).optional(),
  })
  .meta({ id: 'MetricCatalogEntry' });
export const MetricCatalog = z.object({ metrics: z.array(MetricCatalogEntry) }).meta({ id: 'MetricCatalog' });

/** `POST /rules/preview`: the rule as edited, against the last 24 h of the matching hosts. */
export const RulePreviewRequest = z.object({ rule: RuleInput, hours: z.number().min(1).max(24).default(24) });
export const RulePreview = z.object({
  hosts: z.array(
    z.object({
      hostId: uuid,
      hostName: z.string(),
      series: z.array(
        z.object({
          key: z.string(),
          labels: z.record(z.string(), z.string()),
          /** [epoch ms, value] over the preview range. */
          points: z.array(z.tuple([z.number(), z.number().nullable()])),
          /** What the rule says now for this series: null when ok. */
          wouldFire: AlertLevel.nullable(),
          value: z.number().nullable(),
        }),
      ),
    }),
  ),
});

// ── alerts ───────────────────────────────────────────────────────────────────────────────────

export const alertInstanceStates = ['pending', 'firing', 'resolved', 'stale'] as const;
export const AlertInstanceState = z.enum(alertInstanceStates).meta({ id: 'AlertInstanceState' });

export const Alert = z
  .object({
    id: uuid,
    ruleId: uuid,
    ruleName: z.string(),
    hostId: uuid.nullable(),
    hostName: z.string().nullable(),
    /** Series key, e.g. `disk.used_pct{mount="/"}`; "" for host-level rules such as host down. */
    series: z.string(),
    labels: z.record(z.string(), z.string()),
    level: AlertLevel,
    state: AlertInstanceState,
    value: z.number().nullable(),
    peak: z.number().nullable(),
    threshold: z.number().nullable(),
    message: z.string(),
    startedAt: z.iso.datetime(),
    firedAt: z.iso.datetime().nullable(),
    resolvedAt: z.iso.datetime().nullable(),
    acknowledgedAt: z.iso.datetime().nullable(),
    acknowledgedBy: z.string().nullable(),
    silenced: z.boolean(),
  })
  .meta({ id: 'Alert' });
export type Alert = z.infer<typeof Alert>;

export const AlertQuery = z.object({
  /** `active` (pending, firing, stale) or `history`. */
  view: z.enum(['active', 'history']).default('active'),
  level: AlertLevel.optional(),
  hostId: uuid.optional(),
  ruleId: uuid.optional(),
  from: z.iso.datetime().optional(),
  to: z.iso.datetime().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** Opaque cursor from the previous page. */
  cursor: z.string().max(200).optional(),
});
export const AlertList = z
  .object({ alerts: z.array(Alert), nextCursor: z.string().nullable() })
  .meta({ id: 'AlertList' });

// ── channels ─────────────────────────────────────────────────────────────────────────────────

export const channelTypes = ['email', 'slack', 'webhook'] as const;

export const EmailRecipients = z
  .discriminatedUnion('kind', [
    /** Whoever holds these roles when the mail is sent. */
    z.object({ kind: z.literal('roles'), roles: z.array(z.enum(['owner', 'admin', 'viewer'])).min(1) }),
    z.object({
      kind: z.literal('addresses'),
      addresses: z.array(z.string().trim().max(254).pipe(z.email())).min(1).max(50),
    }),
  ])
  .meta({ id: 'EmailRecipients' });

export const SLACK_WEBHOOK_PREFIX = 'https://hooks.slack.com/';

export const ChannelConfig = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('email'), to: EmailRecipients }),
    z.object({ type: z.literal('slack'), webhookUrl: z.url().max(500).refine(isStorableText, storable) }),
    z.object({ type: z.literal('webhook'), url: z.url().max(2000).refine(isStorableText, storable) }),
  ])
  .meta({ id: 'ChannelConfig' });
export type ChannelConfig = z.infer<typeof ChannelConfig>;

/** While quiet, only critical alerts go out; the rest wait for the end of quiet hours, as one digest. */
export const QuietHours = z
  .object({
    timeZone: TimeZone,
    start: ClockTime,
    end: ClockTime,
    days: z
      .array(Weekday)
      .min(1)
      .max(7)
      .default([...weekdays]),
  })
  .meta({ id: 'QuietHours' });
export type QuietHours = z.infer<typeof QuietHours>;

const channelFields = {
  name: z.string().trim().min(1).max(100).refine(isStorableText, storable),
  enabled: z.boolean().default(true),
  minLevel: AlertLevel.default('warning'),
  config: ChannelConfig,
  quietHours: QuietHours.nullable().default(null),
  /** Messages per hour; past it the rest go into one digest at the end of the hour. */
  hourlyBudget: z.number().int().min(1).max(1000).default(30),
};

export const ChannelInput = z.object(channelFields).meta({ id: 'ChannelInput' });
export type ChannelInput = z.input<typeof ChannelInput>;
export const ChannelPatch = z
  .object({
    name: channelFields.name.optional(),
    enabled: z.boolean().optional(),
    minLevel: AlertLevel.optional(),
    config: ChannelConfig.optional(),
    quietHours: QuietHours.nullable().optional(),
    hourlyBudget: channelFields.hourlyBudget.optional(),
  })
  .meta({ id: 'ChannelPatch' });

export const Channel = z
  .object({
    id: uuid,
    ...channelFields,
    /** Slack URLs and webhook secrets are never returned whole. */
    config: z.discriminatedUnion('type', [
      z.object({ type: z.literal('email'), to: EmailRecipients }),
      z.object({ type: z.literal('slack'), webhookUrlHint: z.string() }),
      z.object({ type: z.literal('webhook'), url: z.string(), secretHint: z.string() }),
    ]),
    builtIn: z.boolean(),
    /** Set when a permanent error (Slack `channel_not_found`, webhook 410) disabled the channel. */
    disabledReason: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Channel' });
export type Channel = z.infer<typeof Channel>;
export const ChannelList = z.object({ channels: z.array(Channel) }).meta({ id: 'ChannelList' });
/** Create and secret rotation answer the webhook signing secret (`whsec_…`) once. */
export const ChannelCreated = z
  .object({ channel: Channel, secret: z.string().optional() })
  .meta({ id: 'ChannelCreated' });

export const deliveryStatuses = ['queued', 'sent', 'retrying', 'failed', 'suppressed'] as const;
export const Delivery = z
  .object({
    id: uuid,
    channelId: uuid,
    kind: z.string(),
    status: z.enum(deliveryStatuses),
    attempts: z.number().int(),
    latencyMs: z.number().nullable(),
    lastError: z.string().nullable(),
    /** HTTP status of the last attempt, when there was one. */
    lastStatus: z.number().int().nullable(),
    /** The first alert of the message; `alertIds` has them all (a grouped message or a digest has several). */
    alertId: uuid.nullable(),
    alertIds: z.array(uuid),
    createdAt: z.iso.datetime(),
    sentAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Delivery' });
export const DeliveryList = z.object({ deliveries: z.array(Delivery) }).meta({ id: 'DeliveryList' });
/** `POST /channels/{id}/test`: the test message's delivery-log line after its first attempt. */
export const ChannelTestResult = z.object({ delivery: Delivery }).meta({ id: 'ChannelTestResult' });
/** `GET /channels/{id}/deliveries`: newest first. */
export const DeliveryQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });

// ── silences and maintenance windows ────────────────────────────────────────────────────────

function checkMatcherRegexes(matchers: readonly LabelMatcher[], ctx: z.RefinementCtx, at: (string | number)[]): void {
  for (const [i, m] of matchers.entries()) {
    if ((m.op === '=~' || m.op === '!~') && !validRegex(m.value)) {
      ctx.addIssue({
        code: 'custom',
        path: [...at, i, 'value'],
        message: 'not a valid regular expression',
        params: { code: 'invalid_selector' },
      });
    }
  }
}

/**
 * Matchers on `rule` (rule id), `rule_name`, `host` (host id), `host_name`, `level`, `series`, and any
 * rule or host label. A silenced alert is still recorded and shown, but notifies nobody.
 */
export const SilenceInput = z
  .object({
    matchers: MatcherList.min(1),
    startsAt: z.iso.datetime().optional(),
    endsAt: z.iso.datetime(),
    comment: z.string().trim().min(1).max(1000).refine(isStorableText, storable),
  })
  .superRefine((s, ctx) => {
    const start = s.startsAt ? Date.parse(s.startsAt) : Date.now();
    if (Date.parse(s.endsAt) <= start) {
      ctx.addIssue({
        code: 'custom',
        path: ['endsAt'],
        message: 'endsAt must be after startsAt',
        params: { code: 'validation_failed' },
      });
    }
  })
  .meta({ id: 'SilenceInput' });
export const Silence = z
  .object({
    id: uuid,
    matchers: z.array(LabelMatcher),
    startsAt: z.iso.datetime(),
    endsAt: z.iso.datetime(),
    comment: z.string(),
    createdBy: z.string().nullable(),
    createdAt: z.iso.datetime(),
    state: z.enum(['pending', 'active', 'expired']),
  })
  .meta({ id: 'Silence' });
export const SilenceList = z.object({ silences: z.array(Silence) }).meta({ id: 'SilenceList' });

/** A recurring window (e.g. Sundays 02:00–04:00 Europe/Paris) during which matching alerts notify nobody. */
export const MaintenanceWindowInput = z
  .object({
    name: z.string().trim().min(1).max(100).refine(isStorableText, storable),
    timeZone: TimeZone,
    days: z.array(Weekday).min(1).max(7),
    start: ClockTime,
    durationMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60),
    /** Which alerts: same matcher names as silences; empty: every alert. */
    matchers: MatcherList.default([]),
    enabled: z.boolean().default(true),
  })
  .meta({ id: 'MaintenanceWindowInput' });
/** PATCH: any subset, no defaults (a field left out keeps its value). */
export const MaintenanceWindowPatch = z
  .object({
    name: MaintenanceWindowInput.shape.name.optional(),
    timeZone: TimeZone.optional(),
    days: MaintenanceWindowInput.shape.days.optional(),
    start: ClockTime.optional(),
    durationMinutes: MaintenanceWindowInput.shape.durationMinutes.optional(),
    matchers: MatcherList.optional(),
    enabled: z.boolean().optional(),
  })
  .meta({ id: 'MaintenanceWindowPatch' });
export const MaintenanceWindow = MaintenanceWindowInput.extend({
  id: uuid,
  createdAt: z.iso.datetime(),
  /** Whether the window is open now. */
  activeNow: z.boolean(),
}).meta({ id: 'MaintenanceWindow' });
export const MaintenanceWindowList = z
  .object({ windows: z.array(MaintenanceWindow) })
  .meta({ id: 'MaintenanceWindowList' });

// ── notification payloads ───────────────────────────────────────────────────────────────────

export const WEBHOOK_PAYLOAD_VERSION = '1';
export const notificationKinds = [
  'firing',
  'escalated',
  'renotify',
  'resolved',
  'flapping',
  'digest',
  'test',
  'delivery_failed',
] as const;
export const NotificationKind = z.enum(notificationKinds).meta({ id: 'NotificationKind' });
export type NotificationKind = z.infer<typeof NotificationKind>;

/** One alert as every channel describes it. */
export const NotifiedAlert = z
  .object({
    id: uuid,
    /** Stable per (rule, host, series): PagerDuty's `dedup_key`, Opsgenie's `alias`. */
    dedupKey: z.string(),
    ruleId: uuid,
    ruleName: z.string(),
    hostId: uuid.nullable(),
    hostName: z.string().nullable(),
    series: z.string(),
    labels: z.record(z.string(), z.string()),
    level: AlertLevel,
    state: AlertInstanceState,
    value: z.number().nullable(),
    peak: z.number().nullable(),
    threshold: z.number().nullable(),
    message: z.string(),
    runbook: z.string(),
    startedAt: z.iso.datetime(),
    resolvedAt: z.iso.datetime().nullable(),
    durationSeconds: z.number().nullable(),
    /** Link to the alert on the dashboard. */
    url: z.string(),
  })
  .meta({ id: 'NotifiedAlert' });
export type NotifiedAlert = z.infer<typeof NotifiedAlert>;

/**
 * The webhook body (Standard Webhooks: `{type, timestamp, data}`), versioned. `type` is
 * `alert.<kind>`; one message may carry several alerts of one rule (grouping) or a digest.
 */
export const WebhookPayload = z
  .object({
    type: z.string(),
    timestamp: z.iso.datetime(),
    data: z.object({
      version: z.literal(WEBHOOK_PAYLOAD_VERSION),
      kind: NotificationKind,
      /** Stable for one rule's group of alerts. */
      groupKey: z.string(),
      organizationId: uuid,
      summary: z.string(),
      alerts: z.array(NotifiedAlert),
      externalUrl: z.string(),
    }),
  })
  .meta({ id: 'WebhookPayload' });
export type WebhookPayload = z.infer<typeof WebhookPayload>;
