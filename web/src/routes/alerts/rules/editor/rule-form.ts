import {
  type AlertLevel,
  type aggregations,
  type Comparison,
  type Rule,
  RuleInput,
  type RuleKind,
  type RuleSpec,
} from '@pulsewire/protocol';
import { type DurationField, fromSeconds, numberOf, toSeconds } from '#lib/alerts/durations.ts';
import { type MatcherRow, matchersOf, rowsOf } from '#lib/alerts/matchers.ts';
import { type FieldErrors, issuesToErrors } from '#lib/alerts/validation.ts';

/**
 * The rule editor's state and its mapping to and from the API's `RuleInput`.
 *
 * The form holds the fields of every kind at once, so switching kinds while editing loses nothing;
 * only the chosen kind's condition is sent. Numbers stay text while edited and durations carry a
 * unit; {@link formToDraft} turns them into the request body and {@link validateRuleForm} checks it
 * with the protocol's own `RuleInput`, keying errors by body path (`condition.warning.recovery`),
 * the same paths the API names in its errors.
 */

export type Aggregation = (typeof aggregations)[number];
export type { MatcherRow };
export interface LabelRow {
  key: string;
  value: string;
}
export interface LevelForm {
  on: boolean;
  threshold: string;
  recovery: string;
}

/** Kinds whose condition names one level (threshold and rate have a warning and a critical level). */
export type SingleLevelKind = Exclude<RuleKind, 'threshold' | 'rate'>;

export interface RuleForm {
  name: string;
  enabled: boolean;
  description: string;
  runbook: string;
  labels: LabelRow[];
  scope: { type: 'all' | 'hosts' | 'labels'; hostIds: string[]; selector: string };
  kind: RuleKind;
  metric: { path: string; match: MatcherRow[] };
  /** threshold */
  aggregation: Aggregation;
  window: DurationField;
  comparison: Comparison;
  warning: LevelForm;
  critical: LevelForm;
  /** rate */
  rateWindow: DurationField;
  per: 'second' | 'minute' | 'hour';
  /** no_data */
  graceIntervals: string;
  /** forecast */
  lookbackHours: string;
  horizonHours: string;
  forecastComparison: 'gt' | 'lt';
  forecastThreshold: string;
  /** anomaly */
  baselineHours: string;
  anomalyWindow: DurationField;
  deviations: string;
  direction: 'above' | 'below' | 'both';
  /** reboot */
  rebootResolveAfter: DurationField;
  /** event */
  eventMode: 'event' | 'duration';
  eventKind: string;
  clearKind: string;
  eventResolveAfter: DurationField;
  startKind: string;
  /** Comma-separated event kinds. */
  endKinds: string;
  maxDuration: DurationField;
  eventMatch: MatcherRow[];
  levels: Record<SingleLevelKind, AlertLevel>;
  forDuration: DurationField;
  keepFiringFor: DurationField;
  notify: {
    everyChannel: boolean;
    channelIds: string[];
    renotify: DurationField;
    groupWait: DurationField;
    notifyResolved: boolean;
  };
}

const level = (threshold = '', recovery = '', on = true): LevelForm => ({ on, threshold, recovery });

/** A new rule: a CPU threshold like the built-in one, every default of the schema. */
export function emptyRuleForm(): RuleForm {
  return {
    name: '',
    enabled: true,
    description: '',
    runbook: '',
    labels: [],
    scope: { type: 'all', hostIds: [], selector: '' },
    kind: 'threshold',
    metric: { path: 'cpu.total', match: [] },
    aggregation: 'avg',
    window: { amount: '5', unit: 'min' },
    comparison: 'gt',
    warning: level('90', '80'),
    critical: level('97', '90'),
    rateWindow: { amount: '5', unit: 'min' },
    per: 'minute',
    graceIntervals: '3',
    lookbackHours: '6',
    horizonHours: '24',
    forecastComparison: 'gt',
    forecastThreshold: '100',
    baselineHours: '168',
    anomalyWindow: { amount: '15', unit: 'min' },
    deviations: '5',
    direction: 'both',
    rebootResolveAfter: { amount: '5', unit: 'min' },
    eventMode: 'event',
    eventKind: 'job.failed',
    clearKind: '',
    eventResolveAfter: { amount: '1', unit: 'h' },
    startKind: 'job.started',
    endKinds: 'job.completed, job.failed',
    maxDuration: { amount: '1', unit: 'h' },
    eventMatch: [],
    levels: { no_data: 'critical', forecast: 'warning', anomaly: 'warning', reboot: 'warning', event: 'warning' },
    forDuration: { amount: '5', unit: 'min' },
    keepFiringFor: { amount: '0', unit: 'min' },
    notify: {
      everyChannel: true,
      channelIds: [],
      renotify: { amount: '4', unit: 'h' },
      groupWait: { amount: '30', unit: 's' },
      notifyResolved: true,
    },
  };
}

const rows = rowsOf;
const text = (n: number | undefined) => (n === undefined ? '' : String(n));
const levelForm = (t: { threshold: number; recovery?: number } | undefined): LevelForm =>
  t ? level(String(t.threshold), text(t.recovery)) : level('', '', false);

/** The editor's state for an existing rule (every other kind's fields keep their defaults). */
export function ruleToForm(rule: Rule): RuleForm {
  const form = emptyRuleForm();
  form.name = rule.name;
  form.enabled = rule.enabled;
  form.description = rule.description;
  form.runbook = rule.runbook;
  form.labels = Object.entries(rule.labels).map(([key, value]) => ({ key, value }));
  form.scope =
    rule.scope.type === 'all'
      ? { type: 'all', hostIds: [], selector: '' }
      : rule.scope.type === 'hosts'
        ? { type: 'hosts', hostIds: [...rule.scope.hostIds], selector: '' }
        : { type: 'labels', hostIds: [], selector: rule.scope.selector };
  form.forDuration = fromSeconds(rule.forSeconds);
  form.keepFiringFor = fromSeconds(rule.keepFiringForSeconds);
  form.notify = {
    everyChannel: rule.notify.channelIds === null,
    channelIds: [...(rule.notify.channelIds ?? [])],
    renotify: fromSeconds(rule.notify.renotifyMinutes * 60, 'h'),
    groupWait: fromSeconds(rule.notify.groupWaitSeconds, 's'),
    notifyResolved: rule.notify.notifyResolved,
  };
  const c = rule.condition;
  form.kind = c.kind;
  switch (c.kind) {
    case 'threshold':
      form.metric = { path: c.metric.path, match: rows(c.metric.match) };
      form.aggregation = c.aggregation;
      form.window = fromSeconds(c.windowSeconds);
      form.comparison = c.comparison;
      form.warning = levelForm(c.warning);
      form.critical = levelForm(c.critical);
      break;
    case 'rate':
      form.metric = { path: c.metric.path, match: rows(c.metric.match) };
      form.rateWindow = fromSeconds(c.windowSeconds);
      form.per = c.per;
      form.comparison = c.comparison;
      form.warning = levelForm(c.warning);
      form.critical = levelForm(c.critical);
      break;
    case 'no_data':
      form.graceIntervals = String(c.graceIntervals);
      form.levels.no_data = c.level;
      break;
    case 'forecast':
      form.metric = { path: c.metric.path, match: rows(c.metric.match) };
      form.lookbackHours = String(c.lookbackHours);
      form.horizonHours = String(c.horizonHours);
      form.forecastComparison = c.comparison;
      form.forecastThreshold = String(c.threshold);
      form.levels.forecast = c.level;
      break;
    case 'anomaly':
      form.metric = { path: c.metric.path, match: rows(c.metric.match) };
      form.baselineHours = String(c.baselineHours);
      form.anomalyWindow = fromSeconds(c.windowSeconds);
      form.deviations = String(c.deviations);
      form.direction = c.direction;
      form.levels.anomaly = c.level;
      break;
    case 'reboot':
      form.rebootResolveAfter = fromSeconds(c.resolveAfterSeconds);
      form.levels.reboot = c.level;
      break;
    default:
      form.eventMode = c.mode;
      form.eventMatch = rows(c.match);
      form.levels.event = c.level;
      if (c.mode === 'event') {
        form.eventKind = c.eventKind;
        form.clearKind = c.clearKind ?? '';
        form.eventResolveAfter = fromSeconds(c.resolveAfterSeconds);
      } else {
        form.startKind = c.startKind;
        form.endKinds = c.endKinds.join(', ');
        form.maxDuration = fromSeconds(c.maxSeconds);
      }
  }
  return form;
}

/** Label rows as a record; empty rows are dropped, later keys win. */
export function labelsOf(rows: readonly LabelRow[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const row of rows) {
    if (row.key.trim() === '' && row.value === '') continue;
    labels[row.key.trim()] = row.value;
  }
  return labels;
}

function levelDraft(form: LevelForm): Record<string, unknown> | undefined {
  if (!form.on) return undefined;
  const recovery = numberOf(form.recovery);
  return { threshold: numberOf(form.threshold), ...(recovery === undefined ? {} : { recovery }) };
}

function conditionDraft(form: RuleForm): Record<string, unknown> {
  const metric = { path: form.metric.path.trim(), match: matchersOf(form.metric.match) };
  switch (form.kind) {
    case 'threshold':
      return {
        kind: 'threshold',
        metric,
        aggregation: form.aggregation,
        windowSeconds: form.aggregation === 'last' ? (toSeconds(form.window) ?? 0) : toSeconds(form.window),
        comparison: form.comparison,
        warning: levelDraft(form.warning),
        critical: levelDraft(form.critical),
      };
    case 'rate':
      return {
        kind: 'rate',
        metric,
        windowSeconds: toSeconds(form.rateWindow),
        per: form.per,
        comparison: form.comparison,
        warning: levelDraft(form.warning),
        critical: levelDraft(form.critical),
      };
    case 'no_data':
      return { kind: 'no_data', graceIntervals: numberOf(form.graceIntervals), level: form.levels.no_data };
    case 'forecast':
      return {
        kind: 'forecast',
        metric,
        lookbackHours: numberOf(form.lookbackHours),
        horizonHours: numberOf(form.horizonHours),
        comparison: form.forecastComparison,
        threshold: numberOf(form.forecastThreshold),
        level: form.levels.forecast,
      };
    case 'anomaly':
      return {
        kind: 'anomaly',
        metric,
        baselineHours: numberOf(form.baselineHours),
        windowSeconds: toSeconds(form.anomalyWindow),
        deviations: numberOf(form.deviations),
        direction: form.direction,
        level: form.levels.anomaly,
      };
    case 'reboot':
      return { kind: 'reboot', level: form.levels.reboot, resolveAfterSeconds: toSeconds(form.rebootResolveAfter) };
    default: {
      const match = matchersOf(form.eventMatch);
      if (form.eventMode === 'event') {
        const clearKind = form.clearKind.trim();
        return {
          kind: 'event',
          mode: 'event',
          eventKind: form.eventKind.trim(),
          ...(clearKind ? { clearKind } : {}),
          match,
          level: form.levels.event,
          resolveAfterSeconds: toSeconds(form.eventResolveAfter),
        };
      }
      return {
        kind: 'event',
        mode: 'duration',
        startKind: form.startKind.trim(),
        endKinds: form.endKinds
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean),
        maxSeconds: toSeconds(form.maxDuration),
        match,
        level: form.levels.event,
      };
    }
  }
}

/**
 * The request body the form stands for, before validation: numbers that are empty are left
 * undefined (so the schema says "required" on that field, or applies its default) and optional
 * pieces that are off are left out.
 */
export function formToDraft(form: RuleForm): Record<string, unknown> {
  const renotifySeconds = toSeconds(form.notify.renotify);
  return {
    name: form.name,
    enabled: form.enabled,
    description: form.description,
    runbook: form.runbook.trim(),
    labels: labelsOf(form.labels),
    scope:
      form.scope.type === 'all'
        ? { type: 'all' }
        : form.scope.type === 'hosts'
          ? { type: 'hosts', hostIds: form.scope.hostIds }
          : { type: 'labels', selector: form.scope.selector },
    condition: conditionDraft(form),
    forSeconds: toSeconds(form.forDuration),
    keepFiringForSeconds: toSeconds(form.keepFiringFor),
    notify: {
      channelIds: form.notify.everyChannel ? null : form.notify.channelIds,
      renotifyMinutes: renotifySeconds === undefined ? undefined : renotifySeconds / 60,
      groupWaitSeconds: toSeconds(form.notify.groupWait),
      notifyResolved: form.notify.notifyResolved,
    },
  };
}

export type RuleValidation = { ok: true; rule: RuleSpec; errors: FieldErrors } | { ok: false; errors: FieldErrors };

/** Checks the form with the API's own schema; on success, `rule` is the body to send. */
export function validateRuleForm(form: RuleForm): RuleValidation {
  const parsed = RuleInput.safeParse(formToDraft(form));
  if (parsed.success) return { ok: true, rule: parsed.data, errors: {} };
  return { ok: false, errors: issuesToErrors(parsed.error.issues) };
}

/** Body paths the editor shows an error on (a field, or a group for paths under it). */
const shownPaths = [
  'name',
  'description',
  'runbook',
  'labels',
  'scope.selector',
  'scope.hostIds',
  'condition.metric.path',
  'condition.metric.match',
  'condition.aggregation',
  'condition.windowSeconds',
  'condition.comparison',
  'condition.warning',
  'condition.critical',
  'condition.per',
  'condition.graceIntervals',
  'condition.level',
  'condition.lookbackHours',
  'condition.horizonHours',
  'condition.threshold',
  'condition.baselineHours',
  'condition.deviations',
  'condition.direction',
  'condition.resolveAfterSeconds',
  'condition.eventKind',
  'condition.clearKind',
  'condition.match',
  'condition.startKind',
  'condition.endKinds',
  'condition.maxSeconds',
  'forSeconds',
  'keepFiringForSeconds',
  'notify.channelIds',
  'notify.renotifyMinutes',
  'notify.groupWaitSeconds',
];

/** Whether the editor has a place for an error at `path` (else it goes above the save button). */
export function isShownPath(path: string): boolean {
  return shownPaths.some((p) => path === p || path.startsWith(`${p}.`));
}
