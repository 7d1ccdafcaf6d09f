import type { AlertLevel, RuleCondition, SeriesLabels } from '@pulsewire/protocol';
import { higherIsWorse, nextLevel, thresholdOf } from './levels.ts';
import { comparisonSigns, formatDuration, formatThreshold, formatValue, seriesTitle, unitOf } from './messages.ts';
import type { SeriesWindow } from './series-window.ts';
import type { Verdict } from './state-machine.ts';
import type { ScheduledObservation } from './types.ts';

type Threshold = Extract<RuleCondition, { kind: 'threshold' }>;
type Rate = Extract<RuleCondition, { kind: 'rate' }>;
type NoData = Extract<RuleCondition, { kind: 'no_data' }>;

const PER_SECONDS = { second: 1, minute: 60, hour: 3600 } as const;
const PER_UNIT = { second: 's', minute: 'min', hour: 'h' } as const;

/** No-data grace is never shorter than this, whatever the push interval. */
export const MIN_NO_DATA_GRACE_MS = 60_000;

/**
 * A threshold or rate condition over its window, given the level the instance holds now (null when
 * ok). Null when the window has nothing to say (empty, or a rate over a single instant).
 */
export function seriesVerdict(
  condition: Threshold | Rate,
  window: SeriesWindow,
  current: AlertLevel | null,
  metric: string,
  labels: SeriesLabels,
  hostName: string,
): Verdict | null {
  const unit = unitOf(metric);
  let value: number | null;
  let shown: (v: number) => string;
  let qualifier: string;
  if (condition.kind === 'threshold') {
    value = window.aggregate(condition.aggregation);
    shown = (v) => formatValue(v, unit);
    qualifier =
      condition.aggregation === 'last'
        ? ''
        : ` (${condition.aggregation} ${formatDuration(condition.windowSeconds * 1000)})`;
  } else {
    const perSecond = window.ratePerSecond();
    value = perSecond === null ? null : perSecond * PER_SECONDS[condition.per];
    shown = (v) => `${v > 0 ? '+' : ''}${formatValue(v, unit)}/${PER_UNIT[condition.per]}`;
    qualifier = ` change over ${formatDuration(condition.windowSeconds * 1000)}`;
  }
  if (value === null) return null;
  const level = nextLevel(condition, current, value);
  const threshold = level === null ? null : thresholdOf(condition, level);
  const keep = { value, higherIsWorse: higherIsWorse(condition.comparison) };
  // Healthy and not alerting: the caller keeps nothing, so spare the message.
  if (level === null && current === null) return { level, threshold, message: '', ...keep };
  const title = seriesTitle(metric, labels);
  const message =
    level === null || threshold === null
      ? `${title}${qualifier} back to ${shown(value)} on ${hostName}`
      : `${title}${qualifier} ${shown(value)} ${comparisonSigns[condition.comparison]} ${formatThreshold(threshold, unit)} on ${hostName}`;
  return { level, threshold, message, ...keep };
}

export function noDataGraceMs(condition: NoData, pushIntervalMs: number): number {
  return Math.max(MIN_NO_DATA_GRACE_MS, condition.graceIntervals * pushIntervalMs);
}

/** Host down: silent for the grace or longer. The value is the silence in seconds. */
export function noDataVerdict(
  condition: NoData,
  lastSeen: number,
  pushIntervalMs: number,
  now: number,
  hostName: string,
): Verdict {
  const grace = noDataGraceMs(condition, pushIntervalMs);
  const silentMs = Math.max(0, now - lastSeen);
  const down = silentMs >= grace;
  return {
    level: down ? condition.level : null,
    value: Math.round(silentMs / 1000),
    threshold: Math.round(grace / 1000),
    higherIsWorse: true,
    message: down
      ? `${hostName} has sent nothing for ${formatDuration(silentMs)} (expected every ${formatDuration(pushIntervalMs)})`
      : `${hostName} is reporting again`,
  };
}

/** A forecast or anomaly observation computed by the object from history. */
export function scheduledVerdict(
  observation: ScheduledObservation,
  metric: string,
  labels: SeriesLabels,
  hostName: string,
): Verdict {
  return {
    level: observation.level,
    value: observation.value,
    threshold: observation.threshold,
    higherIsWorse: observation.higherIsWorse,
    message: `${seriesTitle(metric, labels)} ${observation.detail} on ${hostName}`,
  };
}
