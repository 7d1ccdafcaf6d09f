import { RuleCondition } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { evaluateForecast, type ForecastCondition } from './forecast.ts';

const NOW = 1_800_000_000_000;
const HOUR = 3_600_000;

const diskFull = RuleCondition.parse({
  kind: 'forecast',
  metric: { path: 'disk.used_pct' },
  lookbackHours: 6,
  horizonHours: 24,
  threshold: 100,
}) as ForecastCondition;

/** Every 5 minutes over the last `hours`, value = at(hours before now). */
function series(hours: number, at: (hoursAgo: number) => number) {
  const points: { ts: number; value: number }[] = [];
  for (let t = NOW - hours * HOUR; t <= NOW; t += 5 * 60_000) points.push({ ts: t, value: at((NOW - t) / HOUR) });
  return points;
}

describe('evaluateForecast', () => {
  it('fires when the trend reaches the threshold within the horizon, with the hours left as value', () => {
    // 70 % now, +2 %/h: 100 % in 15 h.
    const result = evaluateForecast(
      diskFull,
      series(6, (ago) => 70 - 2 * ago),
      NOW,
    );
    expect(result.level).toBe('warning');
    expect(result.value).toBeCloseTo(15, 6);
    expect(result.threshold).toBe(100);
    expect(result.detail).toBe('reaches 100 in about 15 h (trend over 6 h)');
  });

  it('stays quiet when the threshold is further than the horizon, or the trend is flat or falling', () => {
    const slow = evaluateForecast(
      diskFull,
      series(6, (ago) => 70 - ago),
      NOW,
    ); // 30 h away
    expect(slow.level).toBeNull();
    expect(slow.value).toBeCloseTo(30, 6);
    expect(
      evaluateForecast(
        diskFull,
        series(6, () => 99),
        NOW,
      ),
    ).toMatchObject({ level: null, value: null });
    expect(
      evaluateForecast(
        diskFull,
        series(6, (ago) => 50 + ago),
        NOW,
      ),
    ).toMatchObject({ level: null, value: null });
  });

  it('ignores points older than the lookback (a clean-up seven hours ago does not count)', () => {
    // Before 6 h ago the disk was at 99 %; since then it grows 2 %/h from 58 %.
    const points = [...series(12, () => 99).filter((p) => p.ts < NOW - 6 * HOUR), ...series(6, (ago) => 70 - 2 * ago)];
    expect(evaluateForecast(diskFull, points, NOW).value).toBeCloseTo(15, 6);
  });

  it('counts a series already past the threshold as 0 h; lt conditions mirror', () => {
    const full = RuleCondition.parse({ ...diskFull, threshold: 60 }) as ForecastCondition;
    expect(
      evaluateForecast(
        full,
        series(6, (ago) => 70 - 2 * ago),
        NOW,
      ),
    ).toMatchObject({ level: 'warning', value: 0 });
    const memLow = RuleCondition.parse({
      kind: 'forecast',
      metric: { path: 'memory.available' },
      comparison: 'lt',
      threshold: 1e9,
      horizonHours: 12,
    }) as ForecastCondition;
    // 5 GB now, losing 0.5 GB/h: 1 GB in 8 h.
    const result = evaluateForecast(
      memLow,
      series(6, (ago) => 5e9 + 0.5e9 * ago),
      NOW,
    );
    expect(result.level).toBe('warning');
    expect(result.value).toBeCloseTo(8, 6);
  });

  it('needs enough points over enough time', () => {
    const few = series(6, (ago) => 70 - 2 * ago).slice(-9);
    expect(evaluateForecast(diskFull, few, NOW)).toMatchObject({ level: null, value: null });
    const short = series(0.4, (ago) => 70 - 20 * ago); // 25 points in 24 min
    expect(evaluateForecast(diskFull, short, NOW)).toMatchObject({ level: null, value: null });
  });
});
