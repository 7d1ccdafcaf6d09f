import {
  type AlertLevel,
  type Comparison,
  type MetricUnit,
  metricDefinition,
  type Rule,
  type RuleKind,
  type RuleScope,
} from '@pulsewire/protocol';
import type { Tone } from '#lib/components/ui/tone.ts';
import {
  formatBytes,
  formatCelsius,
  formatCount,
  formatMs,
  formatPct,
  formatPerSec,
  formatRate,
  formatWatts,
} from '#lib/format/format.ts';
import { formatSeconds } from './durations.ts';

/** Words and colours of alerting, the same on every page. */

export const levelTone: Record<AlertLevel, Tone> = { warning: 'warning', critical: 'danger' };
export const levelLabel: Record<AlertLevel, string> = { warning: 'Warning', critical: 'Critical' };

export type AlertState = 'pending' | 'firing' | 'resolved' | 'stale';
export const stateLabel: Record<AlertState, string> = {
  pending: 'Pending',
  firing: 'Firing',
  resolved: 'Resolved',
  stale: 'Stale',
};
export const stateTone: Record<AlertState, Tone> = {
  pending: 'neutral',
  firing: 'danger',
  resolved: 'success',
  stale: 'warning',
};

export const kindLabel: Record<RuleKind, string> = {
  threshold: 'Threshold',
  rate: 'Rate of change',
  no_data: 'No data',
  forecast: 'Forecast',
  anomaly: 'Anomaly',
  reboot: 'Reboot',
  event: 'Event',
};

export const comparisonSymbol: Record<Comparison, string> = { gt: '>', gte: '≥', lt: '<', lte: '≤' };

/** A value of a metric in its unit: `92 %`, `1.2 GiB`, `3.4 MiB/s`. */
export function formatMetricValue(unit: MetricUnit | string | undefined, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  switch (unit) {
    case 'pct':
      return formatPct(value);
    case 'bytes':
      return formatBytes(value);
    case 'bytes_per_s':
      return formatRate(value);
    case 'per_s':
      return formatPerSec(value);
    case 'celsius':
      return formatCelsius(value);
    case 'watts':
      return formatWatts(value);
    case 'ms':
      return formatMs(value);
    default:
      return formatCount(value);
  }
}

/** The metric path of a series key: `disk.used_pct{mount="/"}` → `disk.used_pct`. */
export function seriesMetric(series: string): string {
  const brace = series.indexOf('{');
  return brace === -1 ? series : series.slice(0, brace);
}

/** An alert's value in the unit of its series' metric (plain number for host-level rules). */
export function formatSeriesValue(series: string, value: number | null | undefined): string {
  return formatMetricValue(metricDefinition(seriesMetric(series))?.unit, value);
}

/** `All hosts`, `web-1, web-2 and 3 more`, `env=prod`: who a rule watches. */
export function describeScope(scope: RuleScope, hostNames: ReadonlyMap<string, string> = new Map()): string {
  switch (scope.type) {
    case 'all':
      return 'All hosts';
    case 'hosts': {
      const names = scope.hostIds.map((id) => hostNames.get(id) ?? 'unknown host');
      return names.length <= 2 ? names.join(', ') : `${names.slice(0, 2).join(', ')} and ${names.length - 2} more`;
    }
    default:
      return scope.selector.trim() === '' ? 'All hosts' : scope.selector;
  }
}

/** What a rule watches and when it fires, in one line: `cpu.total avg 5 min > 90 / 97`. */
export function describeCondition(rule: Pick<Rule, 'condition'>): string {
  const c = rule.condition;
  const unit = 'metric' in c ? metricDefinition(c.metric.path)?.unit : undefined;
  const v = (n: number) => formatMetricValue(unit, n);
  switch (c.kind) {
    case 'threshold': {
      const agg = c.aggregation === 'last' ? '' : ` ${c.aggregation} ${formatSeconds(c.windowSeconds)}`;
      return `${c.metric.path}${agg} ${comparisonSymbol[c.comparison]} ${levelsText(c, v)}`;
    }
    case 'rate':
      return `Δ ${c.metric.path} per ${c.per} ${comparisonSymbol[c.comparison]} ${levelsText(c, (n) => formatCount(n))}`;
    case 'no_data':
      return `Nothing received for ${c.graceIntervals} push intervals`;
    case 'forecast':
      return `${c.metric.path} reaches ${comparisonSymbol[c.comparison]} ${v(c.threshold)} within ${c.horizonHours} h`;
    case 'anomaly':
      return `${c.metric.path} ${c.deviations} deviations ${c.direction === 'both' ? 'from' : c.direction} its baseline`;
    case 'reboot':
      return 'The host rebooted';
    default:
      return c.mode === 'event'
        ? `Event ${c.eventKind}`
        : `${c.startKind} without ${c.endKinds.join(' or ')} within ${formatSeconds(c.maxSeconds)}`;
  }
}

/** The levels a rule can raise: `['warning', 'critical']` for a threshold with both. */
export function ruleLevels(rule: Pick<Rule, 'condition'>): AlertLevel[] {
  const c = rule.condition;
  if (c.kind === 'threshold' || c.kind === 'rate') {
    return (['warning', 'critical'] as const).filter((level) => c[level] !== undefined);
  }
  return [c.level];
}

function levelsText(
  c: { warning?: { threshold: number }; critical?: { threshold: number } },
  v: (n: number) => string,
): string {
  return [c.warning, c.critical]
    .filter((t): t is { threshold: number } => t !== undefined)
    .map((t) => v(t.threshold))
    .join(' / ');
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** `Nov 23, 2026, 12:05`: an instant in the viewer's zone, for tables and tooltips. */
export function formatWhen(at: string | number | Date): string {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? '–' : dateTime.format(d);
}

export const channelTypeLabel: Record<'email' | 'slack' | 'webhook', string> = {
  email: 'E-mail',
  slack: 'Slack',
  webhook: 'Webhook',
};
