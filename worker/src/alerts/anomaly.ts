import type { RuleCondition } from '@pulsewire/protocol';
import { mean, median, medianAbsoluteDeviation } from 'simple-statistics';
import { formatValue, unitOf } from './messages.ts';
import type { ScheduledObservation } from './types.ts';

export type AnomalyCondition = Extract<RuleCondition, { kind: 'anomaly' }>;

/** A baseline needs this many points before anything is called unusual. */
export const ANOMALY_MIN_BASELINE_POINTS = 30;

/** Scales the MAD to a standard deviation for normally distributed data. */
const MAD_TO_SIGMA = 1.4826;
/** Scales the mean absolute deviation likewise; the fallback when more than half the baseline is one value. */
const MEAN_AD_TO_SIGMA = 1.2533;

/**
 * Is the recent window unusual against its baseline? The window's average is compared with the
 * median of the baseline ± `deviations` robust deviations (1.4826 × MAD), so spikes in the baseline
 * barely move the usual range. The baseline is the `baselineHours` before the window (the window
 * itself is left out so an anomaly does not soften its own yardstick). Both come from history,
 * queried by the object on a schedule.
 */
export function evaluateAnomaly(
  condition: AnomalyCondition,
  baseline: readonly { ts: number; value: number }[],
  recent: readonly { ts: number; value: number }[],
  now: number,
): ScheduledObservation {
  const windowStart = now - condition.windowSeconds * 1000;
  const baselineStart = windowStart - condition.baselineHours * 3_600_000;
  const base = baseline
    .filter((p) => p.ts > baselineStart && p.ts <= windowStart && Number.isFinite(p.value))
    .map((p) => p.value);
  const window = recent
    .filter((p) => p.ts > windowStart && p.ts <= now && Number.isFinite(p.value))
    .map((p) => p.value);
  const unit = unitOf(condition.metric.path);
  if (base.length < ANOMALY_MIN_BASELINE_POINTS || window.length === 0) {
    return {
      level: null,
      value: null,
      threshold: null,
      higherIsWorse: true,
      detail: 'not enough history for a baseline',
    };
  }

  const usual = median(base);
  let spread = MAD_TO_SIGMA * medianAbsoluteDeviation(base);
  if (spread === 0) spread = MEAN_AD_TO_SIGMA * mean(base.map((v) => Math.abs(v - usual)));
  const upper = usual + condition.deviations * spread;
  const lower = usual - condition.deviations * spread;
  const value = mean(window);
  const above = value > upper && condition.direction !== 'below';
  const below = value < lower && condition.direction !== 'above';
  const higherIsWorse = condition.direction === 'both' ? value >= usual : condition.direction === 'above';
  const bound = higherIsWorse ? upper : lower;
  const range = `usual ${formatValue(usual, unit)}, bound ${formatValue(bound, unit)}`;
  const detail = above
    ? `is unusually high at ${formatValue(value, unit)} (${range})`
    : below
      ? `is unusually low at ${formatValue(value, unit)} (${range})`
      : `is within its usual range at ${formatValue(value, unit)} (${range})`;
  return { level: above || below ? condition.level : null, value, threshold: bound, higherIsWorse, detail };
}
