import { describe, expect, it } from 'vitest';
import { planHistory } from './plan.ts';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const DEFAULTS = { raw: 30, '1m': 90, '1h': 730 };
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('planHistory', () => {
  it('picks the tier from the range: raw under a minute step, 1- or 15-minute rollups under an hour, 1-hour beyond', () => {
    const cases: [number, string, number][] = [
      [5 * MIN, 'raw', 1_000],
      [HOUR, 'raw', 10_000],
      [6 * HOUR, 'raw', 30_000],
      [24 * HOUR, '1m', 120_000],
      [2 * DAY, '1m', 300_000],
      [7 * DAY, '15m', 900_000],
      [14 * DAY, '15m', 1_800_000],
      [30 * DAY, '1h', HOUR],
      [365 * DAY, '1h', 43_200_000],
    ];
    for (const [span, tier, step] of cases) {
      const plan = planHistory({ from: ago(span) }, DEFAULTS, NOW);
      expect([plan.tier, plan.stepMs], `${span / MIN} min`).toEqual([tier, step]);
      expect(
        Math.ceil((plan.to - Math.floor(plan.from / plan.stepMs) * plan.stepMs) / plan.stepMs),
      ).toBeLessThanOrEqual(1000);
    }
  });

  it('reads the 15-minute tier for steps of whole quarter hours under an hour, the 1-minute tier for the others', () => {
    const plan = (step: number, from = ago(7 * DAY), to?: string) =>
      planHistory({ from, ...(to ? { to } : {}), step }, DEFAULTS, NOW);
    expect(plan(15 * MIN).tier).toBe('15m');
    expect(plan(45 * MIN).tier).toBe('15m');
    expect(plan(30 * MIN).tier).toBe('15m');
    expect(plan(20 * MIN, ago(3 * DAY)).tier).toBe('1m');
    expect(plan(10 * MIN, ago(3 * DAY)).tier).toBe('1m');
    expect(plan(HOUR).tier).toBe('1h');
    // Kept as long as the 1-minute tier: 100 days ago is hours, and a 15-minute step is too fine there.
    expect(plan(HOUR, ago(100 * DAY), ago(99 * DAY)).tier).toBe('1h');
    expect(() => plan(15 * MIN, ago(100 * DAY), ago(99 * DAY))).toThrow(/1-hour resolution/);
    // An organisation keeping 1-minute rollups for 5 days: a week back is the 1-hour tier.
    expect(planHistory({ from: ago(7 * DAY) }, { ...DEFAULTS, '1m': 5 }, NOW).tier).toBe('1h');
    // A short range whose raw points are gone, drawn in few points, lands on quarter hours: the 15-minute tier.
    expect(
      planHistory({ from: ago(40 * DAY), to: ago(40 * DAY - 6 * HOUR), maxPoints: 24 }, DEFAULTS, NOW),
    ).toMatchObject({ tier: '15m', stepMs: 15 * MIN });
  });

  it('moves to a coarser tier when the range starts before the finer one is kept', () => {
    // 2 hours, 40 days ago: raw points are gone (30 days), so 1-minute rollups.
    const plan = planHistory({ from: ago(40 * DAY), to: ago(40 * DAY - 2 * HOUR) }, DEFAULTS, NOW);
    expect([plan.tier, plan.stepMs]).toEqual(['1m', MIN]);
    // An organisation keeping 7 days of raw points: 10 days ago is rollups.
    expect(planHistory({ from: ago(10 * DAY), to: ago(10 * DAY - HOUR) }, { ...DEFAULTS, raw: 7 }, NOW).tier).toBe(
      '1m',
    );
  });

  it('refuses steps finer than what is kept, misaligned with the rollups, or too many', () => {
    const code = (query: Parameters<typeof planHistory>[0]) => {
      try {
        planHistory(query, DEFAULTS, NOW);
        return 'ok';
      } catch (error) {
        return (error as { code: string }).code;
      }
    };
    expect(code({ from: ago(40 * DAY), to: ago(39 * DAY), step: 10_000 })).toBe('step_below_resolution');
    expect(code({ from: ago(100 * DAY), to: ago(99 * DAY), step: MIN })).toBe('step_below_resolution');
    expect(code({ from: ago(DAY), step: 90_000 })).toBe('invalid_step');
    expect(code({ from: ago(DAY), step: 1_000 })).toBe('too_many_points');
    expect(code({ from: ago(DAY), to: ago(2 * DAY) })).toBe('invalid_range');
    expect(code({ from: '2026-02-30T00:00:00Z' })).toBe('invalid_date');
    expect(code({ from: ago(1000 * DAY), to: ago(800 * DAY) })).toBe('beyond_retention');
    expect(code({ from: ago(DAY), step: 5 * MIN })).toBe('ok');
    expect(code({ from: ago(100 * DAY), to: ago(99 * DAY), step: 15 * MIN })).toBe('step_below_resolution');
  });

  it('clips a range that starts before anything is kept, and says so', () => {
    const plan = planHistory({ from: ago(1000 * DAY) }, DEFAULTS, NOW);
    expect(plan.clipped).toBe(true);
    expect(plan.from).toBe(plan.oldest);
    expect(plan.tier).toBe('1h');
  });
});
