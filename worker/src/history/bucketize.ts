import { BucketStats, bucketStart } from './bucket-stats.ts';
import type { Chunk } from './chunk-codec.ts';
import { addRollupPoints, rollupColumnsOf } from './rollup-chunk.ts';

/**
 * What a history chart draws: per series, min/avg/max in step-aligned UTC buckets over [from, to), from
 * decoded chunks of any tier. Raw chunks and rollup chunks may be mixed (e.g. the 1 h tier for last month
 * and raw data for today); they must not overlap in time, or the overlap counts twice.
 *
 * Bucket i starts at floor(from/step)·step + i·step; there is one for every start before `to`, empty ones
 * included, and a bucket holds every point stamped within [start, start + step) (so the first bucket also
 * takes points just before `from`). An empty bucket is null in min, avg and max, never 0. A rollup point
 * falls in the bucket of its own start: use a step that is a multiple of the tier's bucket.
 */

export interface BucketizeInput {
  /** Raw-tier chunks: one column per series key. */
  raw?: readonly Chunk[];
  /** Rollup chunks: `K|min`, `K|avg`, `K|max`, `K|count` per series key K (rollup-chunk.ts). */
  rollup?: readonly Chunk[];
}

export interface BucketizeRequest {
  /** Epoch ms; `from` < `to`. */
  from: number;
  to: number;
  stepMs: number;
  /** These series, each in the answer even when it has no value; every series in the chunks when absent. */
  keys?: readonly string[];
}

export interface BucketedSeries {
  min: (number | null)[];
  avg: (number | null)[];
  max: (number | null)[];
}

export interface Buckets {
  /** Every bucket start, empty buckets included. */
  timestamps: number[];
  series: Map<string, BucketedSeries>;
}

/** Far more than any chart needs (the API caps series at ~1,000 points); stops a runaway step. */
export const MAX_BUCKETS = 100_000;

export function bucketize(input: BucketizeInput, request: BucketizeRequest): Buckets {
  const { from, to, stepMs } = request;
  if (!Number.isInteger(stepMs) || stepMs <= 0) throw new RangeError(`bucketize: bad step ${stepMs} ms`);
  if (!(from < to)) throw new RangeError('bucketize: from must be before to');
  const first = bucketStart(from, stepMs);
  const length = Math.ceil((to - first) / stepMs);
  if (length > MAX_BUCKETS) throw new RangeError(`bucketize: ${length} buckets exceed ${MAX_BUCKETS}`);
  const end = first + length * stepMs;
  // Each chunk's timestamps turned into bucket indices once, in a plain loop (-1: outside the range).
  const bucketsOf = (timestamps: readonly number[]) => {
    const buckets = new Int32Array(timestamps.length);
    for (let i = 0; i < timestamps.length; i++) {
      const ts = timestamps[i] as number;
      buckets[i] = ts >= first && ts < end ? Math.floor((ts - first) / stepMs) : -1;
    }
    return buckets;
  };

  const wanted = request.keys ? new Set(request.keys) : null;
  const stats = new Map<string, BucketStats>(request.keys?.map((key) => [key, new BucketStats(length)]));
  const statsOf = (key: string): BucketStats | null => {
    if (wanted && !wanted.has(key)) return null;
    let series = stats.get(key);
    if (!series) {
      series = new BucketStats(length);
      stats.set(key, series);
    }
    return series;
  };

  for (const { timestamps, columns } of input.raw ?? []) {
    const buckets = bucketsOf(timestamps);
    for (const column of columns) {
      const series = statsOf(column.name);
      if (!series) continue;
      const { values } = column;
      for (let i = 0; i < values.length; i++) {
        const bucket = buckets[i] as number;
        const v = values[i] as number;
        if (bucket >= 0 && !Number.isNaN(v)) series.addValue(bucket, v);
      }
    }
  }
  for (const chunk of input.rollup ?? []) {
    const buckets = bucketsOf(chunk.timestamps);
    for (const columns of rollupColumnsOf(chunk)) {
      const series = statsOf(columns.key);
      if (series) addRollupPoints(series, buckets, columns);
    }
  }

  const timestamps = Array.from({ length }, (_, i) => first + i * stepMs);
  const series = new Map<string, BucketedSeries>();
  for (const [key, s] of stats) {
    const min = new Array<number | null>(length);
    const avg = new Array<number | null>(length);
    const max = new Array<number | null>(length);
    for (let i = 0; i < length; i++) {
      const has = s.has(i);
      min[i] = has ? (s.min[i] as number) : null;
      avg[i] = has ? s.avg(i) : null;
      max[i] = has ? (s.max[i] as number) : null;
    }
    series.set(key, { min, avg, max });
  }
  return { timestamps, series };
}
