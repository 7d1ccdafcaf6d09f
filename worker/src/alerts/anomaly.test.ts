import { RuleCondition } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { type AnomalyCondition, evaluateAnomaly } from './anomaly.ts';

const NOW = 1_800_000_000_000;
const MIN = 60_000;

function anomaly(direction: 'above' | 'below' | 'both', deviations = 5) {
  return RuleCondition.parse({
    kind: 'anomaly',
    metric: { path: 'cpu.total' },
    baselineHours: 24,
    windowSeconds: 900,
    deviations,
    direction,
  }) as AnomalyCondition;
}

/**
 * A day of baseline every 5 min before the window, alternating 10 and 12 (median 11, MAD 1), plus
 * eight spikes to 95 and eight dips to 0 that the median and MAD do not notice.
 */
function baseline() {
  const points: { ts: number; value: number }[] = [];
  const end = NOW - 15 * MIN;
  for (let i = 0; i < 288; i++) points.push({ ts: end - i * 5 * MIN, value: i % 2 === 0 ? 10 : 12 });
  for (let i = 0; i < 8; i++) {
    points.push({ ts: end - i * 30 * MIN - MIN, value: 95 }, { ts: end - i * 30 * MIN - 2 * MIN, value: 0 });
  }
  return points;
}

function recent(value: number) {
  return Array.from({ length: 15 }, (_, i) => ({ ts: NOW - i * MIN, value }));
}

describe('evaluateAnomaly', () => {
  // median 11 (spikes included), MAD 1 → σ ≈ 1.4826; 5 deviations: 11 ± 7.413.
  it('fires when the window average leaves median ± k·1.4826·MAD, and reports the crossed bound', () => {
    const high = evaluateAnomaly(anomaly('both'), baseline(), recent(20), NOW);
    expect(high.level).toBe('warning');
    expect(high.value).toBe(20);
    expect(high.threshold).toBeCloseTo(11 + 5 * 1.4826, 6);
    expect(high.higherIsWorse).toBe(true);
    expect(high.detail).toMatch(/^is unusually high at 20 %/);

    expect(evaluateAnomaly(anomaly('both'), baseline(), recent(18), NOW).level).toBeNull();
    const low = evaluateAnomaly(anomaly('both'), baseline(), recent(3), NOW);
    expect(low.level).toBe('warning');
    expect(low.threshold).toBeCloseTo(11 - 5 * 1.4826, 6);
    expect(low.higherIsWorse).toBe(false);
  });

  it('honours the direction', () => {
    expect(evaluateAnomaly(anomaly('below'), baseline(), recent(20), NOW).level).toBeNull();
    expect(evaluateAnomaly(anomaly('above'), baseline(), recent(3), NOW).level).toBeNull();
    expect(evaluateAnomaly(anomaly('below'), baseline(), recent(3), NOW).level).toBe('warning');
  });

  it('leaves the window out of the baseline and needs 30 baseline points before it', () => {
    // 29 points before the window and 15 inside it: only the 29 count, too few for a baseline.
    const short = [...baseline().slice(0, 29), ...recent(60)];
    expect(evaluateAnomaly(anomaly('both'), short, recent(60), NOW)).toMatchObject({ level: null, value: null });
    expect(evaluateAnomaly(anomaly('both'), baseline().slice(0, 30), recent(60), NOW).level).toBe('warning');
  });

  it('falls back to the mean absolute deviation when most of the baseline is one value', () => {
    // 90 % zeros and 10 % ones: MAD 0, mean absolute deviation 0.1 → σ ≈ 0.125; 5σ ≈ 0.627.
    const errors = Array.from({ length: 100 }, (_, i) => ({
      ts: NOW - 20 * MIN - i * MIN,
      value: i % 10 === 0 ? 1 : 0,
    }));
    const condition = anomaly('above');
    expect(evaluateAnomaly(condition, errors, recent(0.5), NOW).level).toBeNull();
    expect(evaluateAnomaly(condition, errors, recent(0.7), NOW).level).toBe('warning');
  });
});
