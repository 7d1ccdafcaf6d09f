import { describe, expect, it } from 'vitest';
import type { SizeTotals } from './relation-sizes.ts';
import { type StorageMeasurement, storageFigures } from './storage-figures.ts';

const totals = (total: number, maps = 0): SizeTotals => ({
  total,
  heap: total - maps,
  toast: 0,
  indexes: 0,
  maps,
  relations: 1,
});

/** 4 hosts × 3 days in the tiers, 4 host-hours of landing rows, 1 host-day of the old layout. */
const measurement = (rawTotal: number): StorageMeasurement => ({
  tiers: {
    raw: totals(rawTotal, 12_000),
    '1m': totals(3_600_000, 12_000),
    '15m': totals(240_000, 12_000),
    '1h': totals(120_000, 12_000),
  },
  fixedBytes: 48_000 + 36_000,
  hostDays: 12,
  valuesPerHostDay: 600_000,
  landing: totals(4_000_000),
  landingHostHours: 4,
  landingWindowHours: 4,
  baseline: totals(24_000_000),
  baselineHostDays: 1,
  baselineValuesPerHostDay: 600_000,
  retentionDays: { raw: 30, '1m': 90, '15m': 90, '1h': 730 },
});

describe('storage figures', () => {
  it('divides every tier by the host-days it holds and compares with the old layout per host-day', () => {
    const figures = storageFigures(measurement(7_200_000));
    expect(figures.perHostDay).toEqual({ raw: 600_000, '1m': 300_000, '15m': 20_000, '1h': 10_000, total: 930_000 });
    expect(figures.bytesPerValue).toBeCloseTo(930_000 / 600_000);
    expect(figures.fixedPerHostDay).toBe(7_000);
    expect(figures.baseline).toEqual({ perHostDay: 24_000_000, bytesPerValue: 40 });
    expect(figures.ratio).toBeCloseTo(930_000 / 24_000_000);
    expect(figures.met).toBe(true);
  });

  it('counts the landing window once per host and every tier for its retention', () => {
    const figures = storageFigures(measurement(7_200_000));
    expect(figures.landing).toEqual({ perHostHour: 1_000_000, perHost: 4_000_000 });
    expect(figures.steadyStatePerHost).toBe(600_000 * 30 + 300_000 * 90 + 20_000 * 90 + 10_000 * 730 + 4_000_000);
  });

  it('misses the bar above 1 MB per host per day, all tiers together', () => {
    expect(storageFigures(measurement(7_200_000 + 12 * 70_000)).met).toBe(true);
    expect(storageFigures(measurement(7_200_000 + 12 * 70_001)).met).toBe(false);
  });
});
