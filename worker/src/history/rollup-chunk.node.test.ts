import { seriesKey } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { type Chunk, decodeChunk, encodeChunk } from './chunk-codec.ts';
import {
  HOUR_MS,
  MINUTE_MS,
  parseRollupColumnName,
  QUARTER_HOUR_MS,
  ROLLUP_STATS,
  rerollup,
  rollup,
  rollupColumnName,
  rollupColumnsOf,
} from './rollup-chunk.ts';
import { pointsOf, randomRawChunk, randomSource } from './test-series.ts';

const START = Date.UTC(2026, 2, 4, 22, 17, 30);

interface Expected {
  min: number;
  max: number;
  sum: number;
  count: number;
}

/** The direct aggregation: every point of every key into its bucket, by brute force. */
function naive(chunks: readonly Chunk[], bucketMs: number): Map<string, Map<number, Expected>> {
  const result = new Map<string, Map<number, Expected>>();
  for (const { key, ts, value } of pointsOf(chunks)) {
    const bucket = ts - (((ts % bucketMs) + bucketMs) % bucketMs);
    const buckets = result.get(key) ?? new Map<number, Expected>();
    result.set(key, buckets);
    const e = buckets.get(bucket) ?? { min: value, max: value, sum: 0, count: 0 };
    buckets.set(bucket, {
      min: Math.min(e.min, value),
      max: Math.max(e.max, value),
      sum: e.sum + value,
      count: e.count + 1,
    });
  }
  return result;
}

/** Raw chunks of consecutive hours (two families), each with its own gaps, live stretches and holes. */
function rawDay(seed: number, hours: number): Chunk[] {
  const random = randomSource(seed);
  const chunks: Chunk[] = [];
  for (let h = 0; h < hours; h++) {
    const from = START + h * HOUR_MS;
    const host = ['cpu.total', 'cpu.user', 'cpu.system', 'load.1', 'memory.used', 'memory.available', 'swap', 'x.y'];
    chunks.push(randomRawChunk(random, from, HOUR_MS, host));
    chunks.push(randomRawChunk(random, from, HOUR_MS, ['disk.used{mount="a|min"}', 'custom.jobs', 'temp{sensor="x"}']));
  }
  return chunks;
}

/** Compares a rollup chunk with the naive aggregation; `tolerance(quantum)` allows for an encoded round trip. */
function expectMatches(
  actual: Chunk,
  expected: Map<string, Map<number, Expected>>,
  bucketMs: number,
  /** How far a stat may be from the direct figure, given the quantum it is stored with. */
  tolerance: (quantum: number, stat: 'min' | 'avg' | 'max', key: string) => number = () => 0,
): void {
  const allBuckets = [...new Set([...expected.values()].flatMap((b) => [...b.keys()]))].sort((a, b) => a - b);
  expect(actual.timestamps).toEqual(allBuckets);
  for (const ts of actual.timestamps) expect(ts % bucketMs).toBe(0);
  const series = rollupColumnsOf(actual);
  expect(series.map((s) => s.key).sort()).toEqual([...expected.keys()].sort());
  for (const s of series) {
    const buckets = expected.get(s.key) as Map<number, Expected>;
    actual.timestamps.forEach((ts, i) => {
      const e = buckets.get(ts);
      const at = `${s.key} @ ${new Date(ts).toISOString()}`;
      if (!e) {
        for (const column of [s.min, s.avg, s.max, s.count]) expect(column[i], `${at} is a gap`).toBeNaN();
        return;
      }
      expect(s.count[i], at).toBe(e.count);
      const close = (actual: number, wanted: number, quantum: number, stat: 'min' | 'avg' | 'max') =>
        expect(Math.abs(actual - wanted), `${at} ${stat}: ${actual} for ${wanted}`).toBeLessThanOrEqual(
          tolerance(quantum, stat, s.key) + Math.abs(wanted) * 1e-12 + 1e-9,
        );
      close(s.min[i] as number, e.min, s.quantum, 'min');
      close(s.max[i] as number, e.max, s.quantum, 'max');
      close(s.avg[i] as number, e.sum / e.count, s.avgQuantum, 'avg');
    });
  }
}

describe('rollup column names', () => {
  it('round-trip for every stat, whatever the key holds', () => {
    const keys = [
      'cpu.total',
      seriesKey('disk.used', { mount: '/mnt/a|max' }),
      seriesKey('custom.x', { a: '|', b: '}|' }),
    ];
    for (const key of keys) {
      for (const stat of ROLLUP_STATS)
        expect(parseRollupColumnName(rollupColumnName(key, stat))).toEqual({ key, stat });
    }
  });

  it('are told apart from raw series keys', () => {
    expect(parseRollupColumnName('cpu.total')).toBeNull();
    expect(parseRollupColumnName(seriesKey('disk.used', { mount: 'x|min' }))).toBeNull();
    expect(parseRollupColumnName('cpu.total|median')).toBeNull();
  });
});

describe('rollup', () => {
  it('matches a direct aggregation of the same raw points (1 min and 1 h buckets)', () => {
    for (const seed of [1, 2, 3]) {
      const raw = rawDay(seed, 5);
      expectMatches(rollup(raw, MINUTE_MS), naive(raw, MINUTE_MS), MINUTE_MS);
      expectMatches(rollup(raw, HOUR_MS), naive(raw, HOUR_MS), HOUR_MS);
    }
  });

  it('rerolls 1 min into 1 h as a direct 1 h aggregation would, also after encoding', async () => {
    const raw = rawDay(4, 6);
    const minutes = rollup(raw, MINUTE_MS);
    expectMatches(rerollup([minutes], HOUR_MS), naive(raw, HOUR_MS), HOUR_MS);
    // Stored chunks are quantised: each stat within half a quantum (an average of values each within
    // quantum/2 of their own is within quantum/2 as well).
    const stored = await decodeChunk(await encodeChunk(minutes));
    expectMatches(stored, naive(raw, MINUTE_MS), MINUTE_MS, (quantum) => quantum / 2);
    // Hours: min and max are quantised once; an average twice (the minutes', then its own).
    const minuteAvgQuantum = new Map(rollupColumnsOf(stored).map((s) => [s.key, s.avgQuantum]));
    const hours = await decodeChunk(await encodeChunk(rerollup([stored], HOUR_MS)));
    expectMatches(hours, naive(raw, HOUR_MS), HOUR_MS, (quantum, stat, key) =>
      stat === 'avg' ? ((minuteAvgQuantum.get(key) as number) + quantum) / 2 : quantum / 2,
    );
  });

  it('rerolls 1 min into 15 min as a direct 15-minute aggregation would: the day’s minutes, or stored ones', async () => {
    // A day's worth of hours, starting off the quarter hour, with gaps, resets and live 1 s stretches.
    const raw = rawDay(7, 25);
    const minutes = rollup(raw, MINUTE_MS);
    const direct = naive(raw, QUARTER_HOUR_MS);
    expectMatches(rerollup([minutes], QUARTER_HOUR_MS), direct, QUARTER_HOUR_MS);
    // What the roll-up stores (encoded once), and what the backfill builds from stored minutes (twice for
    // the average, as for 1 h).
    const stored = await decodeChunk(await encodeChunk(minutes));
    const minuteAvgQuantum = new Map(rollupColumnsOf(stored).map((s) => [s.key, s.avgQuantum]));
    const quarters = await decodeChunk(await encodeChunk(rerollup([minutes], QUARTER_HOUR_MS)));
    expectMatches(quarters, direct, QUARTER_HOUR_MS, (quantum) => quantum / 2);
    const backfilled = await decodeChunk(await encodeChunk(rerollup([stored], QUARTER_HOUR_MS)));
    expectMatches(backfilled, direct, QUARTER_HOUR_MS, (quantum, stat, key) =>
      stat === 'avg' ? ((minuteAvgQuantum.get(key) as number) + quantum) / 2 : quantum / 2,
    );
  });

  it('rerolls several 1 min chunks that share hours (a day split per family)', () => {
    const raw = rawDay(5, 3);
    const perChunk = raw.map((chunk) => rollup([chunk], MINUTE_MS));
    expectMatches(rerollup(perChunk, HOUR_MS), naive(raw, HOUR_MS), HOUR_MS);
  });

  it('turns a series with no value in a bucket into a gap, never a zero', () => {
    const timestamps = [START, START + 10_000, START + 120_000];
    const chunk: Chunk = {
      timestamps,
      columns: [
        { name: 'a', quantum: 0.01, values: Float64Array.of(1, 3, Number.NaN) },
        { name: 'b', quantum: 0.01, values: Float64Array.of(Number.NaN, Number.NaN, 5) },
      ],
    };
    const [a, b] = rollupColumnsOf(rollup([chunk], MINUTE_MS));
    expect([...(a?.avg ?? [])]).toEqual([2, Number.NaN]);
    expect([...(a?.count ?? [])]).toEqual([2, Number.NaN]);
    expect([...(b?.min ?? [])]).toEqual([Number.NaN, 5]);
  });

  it('rolls nothing into an empty chunk', () => {
    expect(rollup([], MINUTE_MS)).toEqual({ timestamps: [], columns: [] });
    expect(rerollup([{ timestamps: [], columns: [] }], HOUR_MS)).toEqual({ timestamps: [], columns: [] });
  });

  it('refuses chunks spanning more buckets than it may hold (a stray timestamp years away)', () => {
    const stray: Chunk = { timestamps: [START, START + 2 * 366 * 24 * HOUR_MS], columns: [] };
    expect(() => rollup([stray], MINUTE_MS)).toThrow(/span/);
    expect(rollup([stray], HOUR_MS).timestamps).toEqual([]);
  });

  it('refuses a chunk that is not a rollup where a rollup is expected', () => {
    const raw = rawDay(6, 1);
    expect(() => rerollup(raw, HOUR_MS)).toThrow(/not a rollup column/);
  });
});
