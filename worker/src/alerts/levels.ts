import type { AlertLevel, Comparison, LevelThreshold } from '@pulsewire/protocol';

/** The part of a threshold or rate condition that decides levels. */
export interface LevelSpec {
  comparison: Comparison;
  warning?: LevelThreshold;
  critical?: LevelThreshold;
}

/** Whether `value` is on the alerting side of `threshold`. */
export function breaches(value: number, threshold: number, comparison: Comparison): boolean {
  switch (comparison) {
    case 'gt':
      return value > threshold;
    case 'gte':
      return value >= threshold;
    case 'lt':
      return value < threshold;
    default:
      return value <= threshold;
  }
}

/**
 * The level for `value`, given the level the instance holds now (pending or firing; null when ok).
 *
 * Value hysteresis: a level is entered past its threshold but left only past its recovery
 * threshold (defaulting to the threshold), like Datadog's `*_recovery`. So with critical 97
 * (recovery 90) and warning 90 (recovery 80), a critical alert at 93 stays critical, at 85 drops
 * to warning (de-escalation), and at 80 resolves. Escalation to critical needs the critical
 * threshold itself.
 */
export function nextLevel(spec: LevelSpec, current: AlertLevel | null, value: number): AlertLevel | null {
  const { comparison, warning, critical } = spec;
  if (critical) {
    if (breaches(value, critical.threshold, comparison)) return 'critical';
    if (current === 'critical' && breaches(value, critical.recovery ?? critical.threshold, comparison)) {
      return 'critical';
    }
  }
  if (warning) {
    if (breaches(value, warning.threshold, comparison)) return 'warning';
    // Any active level holds at least the warning while the value has not recovered past warning's line.
    if (current !== null && breaches(value, warning.recovery ?? warning.threshold, comparison)) return 'warning';
  }
  return null;
}

/** The trigger threshold of `level`, or null when the spec has none. */
export function thresholdOf(spec: LevelSpec, level: AlertLevel): number | null {
  return spec[level]?.threshold ?? null;
}

/** Which way is worse for peak tracking: up for gt/gte, down for lt/lte. */
export function higherIsWorse(comparison: Comparison): boolean {
  return comparison === 'gt' || comparison === 'gte';
}
