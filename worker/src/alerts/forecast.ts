import type { RuleCondition } from '@pulsewire/protocol';
import { linearRegression } from 'simple-statistics';
import { formatDuration, formatThreshold, unitOf } from './messages.ts';
import type { ScheduledObservation } from './types.ts';

export type ForecastCondition = Extract<RuleCondition, { kind: 'forecast' }>;

/** A trend needs this many points spread over at least this long before it is believed. */
export const FORECAST_MIN_POINTS = 10;
export const FORECAST_MIN_SPAN_MS = 30 * 60_000;

const HOUR = 3_600_000;

/**
 * Will the series reach the threshold within the horizon? A least-squares line through the points
 * of the last `lookbackHours` (history tiers, queried by the object on a schedule), evaluated at
 * `now`: the hours left until the line crosses the threshold are the value. Already past it counts
 * as 0 h; a flat or receding trend never reaches it.
 */
export function evaluateForecast(
  condition: ForecastCondition,
  points: readonly { ts: number; value: number }[],
  now: number,
): ScheduledObservation {
  const from = now - condition.lookbackHours * HOUR;
  const usable = points.filter((p) => p.ts > from && p.ts <= now && Number.isFinite(p.value));
  const unit = unitOf(condition.metric.path);
  const threshold = condition.threshold;
  const none = (detail: string): ScheduledObservation => ({
    level: null,
    value: null,
    threshold,
    higherIsWorse: false,
    detail,
  });
  if (usable.length < FORECAST_MIN_POINTS) return none('not enough history for a trend');
  const first = Math.min(...usable.map((p) => p.ts));
  const last = Math.max(...usable.map((p) => p.ts));
  if (last - first < FORECAST_MIN_SPAN_MS) return none('not enough history for a trend');

  // Hours relative to now keep the numbers small; the intercept is then the trend's value now.
  const { m: perHour, b: current } = linearRegression(usable.map((p) => [(p.ts - now) / HOUR, p.value]));
  const rising = condition.comparison === 'gt';
  const past = rising ? current > threshold : current < threshold;
  let hours: number | null;
  if (past) hours = 0;
  else if (rising ? perHour <= 0 : perHour >= 0) hours = null;
  else hours = (threshold - current) / perHour;

  const trend = `trend over ${formatDuration(condition.lookbackHours * HOUR)}`;
  if (hours === null) return none(`not heading for ${formatThreshold(threshold, unit)} (${trend})`);
  const value = Math.round(hours * 100) / 100;
  const detail =
    hours === 0
      ? `is past ${formatThreshold(threshold, unit)} (${trend})`
      : `reaches ${formatThreshold(threshold, unit)} in about ${formatDuration(hours * HOUR)} (${trend})`;
  return {
    level: hours <= condition.horizonHours ? condition.level : null,
    value,
    threshold,
    higherIsWorse: false,
    detail,
  };
}
