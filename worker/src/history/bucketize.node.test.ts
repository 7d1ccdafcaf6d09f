import { describe, expect, it } from 'vitest';
import { type BucketedSeries, type Buckets, bucketize } from './bucketize.ts';
import type { Chunk } from './chunk-codec.ts';
import { HOUR_MS, MINUTE_MS, rerollup, rollup } from './rollup-chunk.ts';
import { pointsOf, randomRawChunk, randomSource } from './test-series.ts';

const DAY_MS = 24 * HOUR_MS;
const START = Date.UTC(2026, 2, 4);
const KEYS = ['cpu.total', 'memory.used', 'net.rx{iface="eth0"}', 'custom.q', 'temp{sensor="a"}'];

function rawHours(seed: number, fromHour: number, hours: number): Chunk[] {
  const random = randomSource(seed);
  return Array.from({ length: hours }, (_, h) =>
    randomRawChunk(random, START + (fromHour + h) * HOUR_MS, HOUR_MS, KEYS),
  );
}

/** The direct answer: each raw point into its step-aligned bucket, for the buckets of [from, to). */
function naive(raw: readonly Chunk[], from: number, to: number, step: number): Buckets {
  const first = Math.floor(from / step) * step;
  const timestamps: number[] = [];
  for (let t = first; t < to; t += step) timestamps.push(t);
  const series = new Map<string, BucketedSeries>();
  const sums = new Map<string, { sum: number; count: number }[]>();
  for (const { key, ts, value } of pointsOf(raw)) {
    const i = (Math.floor(ts / step) * step - first) / step;
    if (i < 0 || i >= timestamps.length) continue;
    if (!series.has(key)) {
      const nulls = () => timestamps.map(() => null);
      series.set(key, { min: nulls(), avg: nulls(), max: nulls() });
      sums.set(
        key,
        timestamps.map(() => ({ sum: 0, count: 0 })),
      );
    }
    const s = series.get(key) as BucketedSeries;
    const acc = (sums.get(key) as { sum: number; count: number }[])[i] as { sum: number; count: number };
    s.min[i] = Math.min(s.min[i] ?? value, value);
    s.max[i] = Math.max(s.max[i] ?? value, value);
    acc.sum += value;
    acc.count += 1;
    s.avg[i] = acc.sum / acc.count;
  }
  return { timestamps, series };
}

function expectSame(actual: Buckets, expected: Buckets): void {
  expect(actual.timestamps).toEqual(expected.timestamps);
  expect([...actual.series.keys()].sort()).toEqual([...expected.series.keys()].sort());
  for (const [key, wanted] of expected.series) {
    const got = actual.series.get(key) as BucketedSeries;
    for (const stat of ['min', 'avg', 'max'] as const) {
      wanted[stat].forEach((w, i) => {
        const g = got[stat][i];
        const at = `${key} ${stat} @ ${new Date(actual.timestamps[i] as number).toISOString()}`;
        if (w === null) {
          expect(g, `${at} is empty`).toBeNull();
          return;
        }
        expect(g, at).not.toBeNull();
        expect(Math.abs((g as number) - w), `${at}: ${g} for ${w}`).toBeLessThanOrEqual(Math.abs(w) * 1e-12 + 1e-9);
      });
    }
  }
}

describe('bucketize', () => {
  it('matches a direct aggregation of raw points, for unaligned ranges and various steps', () => {
    const raw = rawHours(1, 0, 6);
    const cases = [
      { from: START + 7 * 60_000 + 13_000, to: START + 5 * HOUR_MS + 1, step: 5 * MINUTE_MS },
      { from: START + 1, to: START + 6 * HOUR_MS, step: 10_000 },
      { from: START - HOUR_MS, to: START + 8 * HOUR_MS, step: HOUR_MS },
      { from: START + 3 * HOUR_MS, to: START + 3 * HOUR_MS + 30_000, step: 7_000 },
    ];
    for (const { from, to, step } of cases) {
      const answer = bucketize({ raw }, { from, to, stepMs: step });
      expectSame(answer, naive(raw, from, to, step));
    }
  });

  it('aligns buckets to the step in UTC and keeps empty ones, as null', () => {
    const raw = rawHours(2, 2, 1);
    const from = START + 90 * MINUTE_MS;
    const answer = bucketize({ raw }, { from, to: START + 5 * HOUR_MS, stepMs: HOUR_MS });
    expect(answer.timestamps.map((t) => new Date(t).toISOString())).toEqual([
      '2026-03-04T01:00:00.000Z',
      '2026-03-04T02:00:00.000Z',
      '2026-03-04T03:00:00.000Z',
      '2026-03-04T04:00:00.000Z',
    ]);
    const cpu = answer.series.get('cpu.total') as BucketedSeries;
    expect(cpu.avg[0]).toBeNull();
    expect(cpu.avg[1]).not.toBeNull();
    expect(cpu.min.slice(2)).toEqual([null, null]);
    const days = bucketize({ raw }, { from: START + 5 * HOUR_MS, to: START + 3 * DAY_MS, stepMs: DAY_MS });
    expect(days.timestamps).toEqual([START, START + DAY_MS, START + 2 * DAY_MS]);
  });

  it('mixes the 1 h tier, the 1 min tier and raw data for consecutive stretches', () => {
    const raw = rawHours(3, 0, 9);
    const hourTier = rerollup([rollup(raw.slice(0, 3), MINUTE_MS)], HOUR_MS);
    const minuteTier = rollup(raw.slice(3, 6), MINUTE_MS);
    const from = START + 20 * MINUTE_MS;
    const to = START + 9 * HOUR_MS;
    const step = HOUR_MS;
    const answer = bucketize({ rollup: [hourTier, minuteTier], raw: raw.slice(6) }, { from, to, stepMs: step });
    expectSame(answer, naive(raw, from, to, step));
  });

  it('answers the series asked for, with nulls for one that has no data', () => {
    const raw = rawHours(4, 0, 1);
    const answer = bucketize(
      { raw },
      { from: START, to: START + HOUR_MS, stepMs: 15 * MINUTE_MS, keys: ['cpu.total', 'nope'] },
    );
    expect([...answer.series.keys()]).toEqual(['cpu.total', 'nope']);
    expect(answer.series.get('nope')).toEqual({
      min: [null, null, null, null],
      avg: [null, null, null, null],
      max: [null, null, null, null],
    });
    expect(answer.series.get('cpu.total')?.avg.every((v) => v !== null)).toBe(true);
  });

  it('refuses an empty range, a bad step and a runaway number of buckets', () => {
    expect(() => bucketize({}, { from: START, to: START, stepMs: 1000 })).toThrow(/before/);
    expect(() => bucketize({}, { from: START, to: START + 1, stepMs: 0 })).toThrow(/step/);
    expect(() => bucketize({}, { from: START, to: START + 1, stepMs: 1.5 })).toThrow(/step/);
    expect(() => bucketize({}, { from: 0, to: START, stepMs: 1000 })).toThrow(/buckets/);
  });
});
