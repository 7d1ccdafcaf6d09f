import { BucketStats, bucketStart } from './bucket-stats.ts';
import type { Chunk, ChunkColumn } from './chunk-codec.ts';
import { averageQuantum, valueStep } from './precision.ts';

/**
 * Rollup tiers (issue 12): 1 min, 15 min and 1 h buckets holding min/avg/max/count of each series' values.
 *
 * A rollup chunk has four columns per series key K: `K|min`, `K|avg`, `K|max`, `K|count`, at the bucket
 * starts (UTC-aligned). A bucket where K has no value is a gap (NaN) in all four. '|' may occur inside a
 * key (in a quoted label value) but never at its end after a stat name, so the name splits at its last '|'.
 */

export const ROLLUP_STATS = ['min', 'avg', 'max', 'count'] as const;
export type RollupStat = (typeof ROLLUP_STATS)[number];

export const MINUTE_MS = 60_000;
export const QUARTER_HOUR_MS = 900_000;
export const HOUR_MS = 3_600_000;
export type RollupBucketMs = typeof MINUTE_MS | typeof QUARTER_HOUR_MS | typeof HOUR_MS;

/** Counts are whole numbers: quantum 1 stores them exactly. */
const COUNT_QUANTUM = 1;

export function rollupColumnName(key: string, stat: RollupStat): string {
  return `${key}|${stat}`;
}

export function parseRollupColumnName(name: string): { key: string; stat: RollupStat } | null {
  const bar = name.lastIndexOf('|');
  if (bar <= 0) return null;
  const stat = name.slice(bar + 1);
  return (ROLLUP_STATS as readonly string[]).includes(stat)
    ? { key: name.slice(0, bar), stat: stat as RollupStat }
    : null;
}

/** One series' columns of a rollup chunk; incomplete sets are refused rather than half-read. */
export interface RollupColumns {
  key: string;
  /** The series' quantum (min and max are stored with it). */
  quantum: number;
  /** The average's: the series' quantum, or a relative one for exact series (precision.ts, averageQuantum). */
  avgQuantum: number;
  min: Float64Array;
  avg: Float64Array;
  max: Float64Array;
  count: Float64Array;
}

export function rollupColumnsOf(chunk: Chunk): RollupColumns[] {
  const byKey = new Map<string, Partial<Record<RollupStat, ChunkColumn>>>();
  for (const column of chunk.columns) {
    const parsed = parseRollupColumnName(column.name);
    if (!parsed) throw new RangeError(`rollup: ${column.name} is not a rollup column`);
    const stats = byKey.get(parsed.key) ?? {};
    stats[parsed.stat] = column;
    byKey.set(parsed.key, stats);
  }
  return [...byKey].map(([key, { min, avg, max, count }]) => {
    if (!min || !avg || !max || !count) throw new RangeError(`rollup: ${key} lacks one of min/avg/max/count`);
    const { quantum } = min;
    return {
      key,
      quantum,
      avgQuantum: avg.quantum,
      min: min.values,
      avg: avg.values,
      max: max.values,
      count: count.values,
    };
  });
}

/** Series accumulated over a dense run of buckets, turned into a chunk of the buckets that hold a value. */
class RollupBuilder {
  readonly #series = new Map<string, { quantum: number; stats: BucketStats }>();

  readonly first: number;
  readonly bucketMs: number;
  readonly length: number;

  constructor(first: number, bucketMs: number, length: number) {
    this.first = first;
    this.bucketMs = bucketMs;
    this.length = length;
  }

  index(ts: number): number {
    return (bucketStart(ts, this.bucketMs) - this.first) / this.bucketMs;
  }

  stats(key: string, quantum: number): BucketStats {
    let series = this.#series.get(key);
    if (!series) {
      series = { quantum, stats: new BucketStats(this.length) };
      this.#series.set(key, series);
    }
    // Chunks may store a series with different quanta (byte rates' is relative to each chunk's values): the
    // finest keeps every source value within its own precision.
    if (quantum < series.quantum) series.quantum = quantum;
    return series.stats;
  }

  build(): Chunk {
    const all = [...this.#series.values()];
    const used: number[] = [];
    for (let i = 0; i < this.length; i++) {
      if (all.some(({ stats }) => stats.has(i))) used.push(i);
    }
    const timestamps = used.map((i) => this.first + i * this.bucketMs);
    const columns: ChunkColumn[] = [];
    for (const [key, { quantum, stats }] of this.#series) {
      // Plain loops: the open day's chunk is rebuilt every hour, so this runs for every bucket of every series.
      const min = new Float64Array(used.length);
      const avg = new Float64Array(used.length);
      const max = new Float64Array(used.length);
      const count = new Float64Array(used.length);
      for (let j = 0; j < used.length; j++) {
        const i = used[j] as number;
        const has = stats.has(i);
        min[j] = has ? (stats.min[i] as number) : Number.NaN;
        avg[j] = has ? stats.avg(i) : Number.NaN;
        max[j] = has ? (stats.max[i] as number) : Number.NaN;
        count[j] = has ? (stats.count[i] as number) : Number.NaN;
      }
      columns.push(
        { name: rollupColumnName(key, 'min'), quantum, values: min },
        {
          name: rollupColumnName(key, 'avg'),
          quantum: averageQuantum(quantum, avg, valueStep(quantum, min, max)),
          values: avg,
        },
        { name: rollupColumnName(key, 'max'), quantum, values: max },
        { name: rollupColumnName(key, 'count'), quantum: COUNT_QUANTUM, values: count },
      );
    }
    return { timestamps, columns };
  }
}

function builderFor(chunks: readonly Chunk[], bucketMs: number): RollupBuilder {
  if (!Number.isInteger(bucketMs) || bucketMs <= 0) throw new RangeError(`rollup: bad bucket ${bucketMs} ms`);
  let earliest = Number.POSITIVE_INFINITY;
  let latest = Number.NEGATIVE_INFINITY;
  for (const { timestamps } of chunks) {
    if (timestamps.length === 0) continue;
    earliest = Math.min(earliest, timestamps[0] as number);
    latest = Math.max(latest, timestamps[timestamps.length - 1] as number);
  }
  if (earliest > latest) return new RollupBuilder(0, bucketMs, 0);
  const first = bucketStart(earliest, bucketMs);
  const length = (bucketStart(latest, bucketMs) - first) / bucketMs + 1;
  if (length > MAX_ROLLUP_BUCKETS) throw new RangeError(`rollup: the chunks span ${length} buckets of ${bucketMs} ms`);
  return new RollupBuilder(first, bucketMs, length);
}

/** Buckets one rollup may span (a year of minutes): the builder is dense, so a stray timestamp must not blow it up. */
export const MAX_ROLLUP_BUCKETS = 366 * 24 * 60;

/**
 * Raw-tier chunks (one value per series per timestamp) → one rollup chunk of `bucketMs` buckets, holding
 * the buckets where any series has a value. The chunks must not overlap in time (a point given twice counts
 * twice); they may hold different series (e.g. one chunk per hour, or several families).
 */
export function rollup(chunks: readonly Chunk[], bucketMs: RollupBucketMs): Chunk {
  const builder = builderFor(chunks, bucketMs);
  for (const { timestamps, columns } of chunks) {
    const buckets = timestamps.map((ts) => builder.index(ts));
    for (const { name, quantum, values } of columns) {
      const stats = builder.stats(name, quantum);
      values.forEach((v, i) => {
        if (!Number.isNaN(v)) stats.addValue(buckets[i] as number, v);
      });
    }
  }
  return builder.build();
}

/**
 * Rollup chunks (e.g. 1 min) → one rollup chunk of coarser buckets: min of mins, max of maxes, the average
 * weighted by counts, the sum of counts. The same rules as `rollup` apply to the chunks given.
 */
export function rerollup(chunks: readonly Chunk[], bucketMs: RollupBucketMs): Chunk {
  const builder = builderFor(chunks, bucketMs);
  for (const chunk of chunks) {
    const buckets = chunk.timestamps.map((ts) => builder.index(ts));
    for (const series of rollupColumnsOf(chunk)) {
      const stats = builder.stats(series.key, series.quantum);
      addRollupPoints(stats, buckets, series);
    }
  }
  return builder.build();
}

/**
 * Adds each point of a rollup series that holds values (count > 0) to `stats`, point i into bucket
 * `buckets[i]`; a negative bucket leaves the point out.
 */
export function addRollupPoints(
  stats: BucketStats,
  buckets: ArrayLike<number>,
  { min, avg, max, count }: RollupColumns,
): void {
  for (let i = 0; i < buckets.length; i++) {
    const bucket = buckets[i] as number;
    const n = count[i] as number;
    if (bucket < 0 || !(n > 0) || Number.isNaN(avg[i] as number)) continue;
    stats.addSummary(bucket, min[i] as number, avg[i] as number, max[i] as number, n);
  }
}

/** `chunk` with only the points whose time `keep` accepts (the chunk itself when it keeps them all). */
function keepPoints(chunk: Chunk, keep: (ts: number) => boolean): Chunk {
  const { timestamps } = chunk;
  const kept: number[] = [];
  for (let i = 0; i < timestamps.length; i++) if (keep(timestamps[i] as number)) kept.push(i);
  if (kept.length === timestamps.length) return chunk;
  return {
    timestamps: kept.map((i) => timestamps[i] as number),
    columns: chunk.columns.map((column) => {
      const values = new Float64Array(kept.length);
      for (let k = 0; k < kept.length; k++) values[k] = column.values[kept[k] as number] as number;
      return { ...column, values };
    }),
  };
}

/** `chunk` without its points in [from, to) (the chunk itself when it has none there). */
export function withoutRange(chunk: Chunk, from: number, to: number): Chunk {
  // Timestamps ascend: the first at or after `from` tells whether any lies in the range. A chart's chunks
  // mostly have none there, and are then neither walked nor copied.
  const { timestamps } = chunk;
  let low = 0;
  let high = timestamps.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((timestamps[middle] as number) < from) low = middle + 1;
    else high = middle;
  }
  if (low === timestamps.length || (timestamps[low] as number) >= to) return chunk;
  return keepPoints(chunk, (ts) => ts < from || ts >= to);
}

/** `chunk`'s points in [from, to) only (the chunk itself when it has none elsewhere). */
export function withinRange(chunk: Chunk, from: number, to: number): Chunk {
  const { timestamps } = chunk;
  // Timestamps ascend: both ends inside means every point is.
  if (
    timestamps.length === 0 ||
    ((timestamps[0] as number) >= from && (timestamps[timestamps.length - 1] as number) < to)
  ) {
    return chunk;
  }
  return keepPoints(chunk, (ts) => ts >= from && ts < to);
}

/**
 * A rollup chunk with its buckets in [from, to) replaced by `fresh` (a rollup of that span, same bucket size):
 * how a month's 1-hour chunk takes each closed day. Doing it again with the same `fresh` gives the same chunk,
 * so a late replay simply redoes its span.
 */
export function replaceRange(
  existing: Chunk | undefined,
  fresh: Chunk,
  span: { from: number; to: number },
  bucketMs: RollupBucketMs,
): Chunk {
  if (!existing) return fresh;
  return rerollup([withoutRange(existing, span.from, span.to), fresh], bucketMs);
}
