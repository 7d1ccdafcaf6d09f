import type { aggregations } from '@pulsewire/protocol';

export type Aggregation = (typeof aggregations)[number];

/**
 * The most buckets one window keeps. Points that fall into the same bucket (window / 120 wide) are
 * merged, so a series costs at most ~121 × 64 bytes whatever its cadence: 1 s while someone watches
 * the host live, 10 s otherwise. At 10 s every 300 s-window bucket holds one point and every
 * aggregate is exact; at 1 s a bucket holds 2–3 points and only `p95` becomes approximate.
 */
export const MAX_BUCKETS = 120;

// One bucket, stored flat in a Float64Array: first point, last point, min, max, sum, count.
const T0 = 0;
const V0 = 1;
const T1 = 2;
const V1 = 3;
const MIN = 4;
const MAX = 5;
const SUM = 6;
const COUNT = 7;
const FIELDS = 8;
const INITIAL_BUCKETS = 4;

/**
 * The recent points of one series for one aggregation window (seconds), bounded in memory: a ring
 * of time buckets. A window of 0 keeps only the newest point (`last`).
 *
 * Time is the samples' time. A point older than the newest bucket arrives too late to change the
 * present and is dropped; a bucket that straddles the window's start is counted whole (an error of
 * at most one bucket, under 1 % of the window).
 */
export class SeriesWindow {
  /** The window's length as rules give it. */
  readonly seconds: number;
  readonly spanMs: number;
  readonly bucketMs: number;
  readonly #capacity: number;
  #data: Float64Array;
  /** Index (in buckets) of the oldest bucket in the ring, and how many there are. */
  #head = 0;
  #length = 0;

  constructor(windowSeconds: number) {
    this.seconds = windowSeconds;
    this.spanMs = Math.max(0, windowSeconds) * 1000;
    this.bucketMs = this.spanMs === 0 ? 1 : Math.max(1, Math.ceil(this.spanMs / MAX_BUCKETS));
    // +1: the window's start usually cuts a bucket in two.
    this.#capacity = this.spanMs === 0 ? 1 : MAX_BUCKETS + 1;
    this.#data = new Float64Array(Math.min(INITIAL_BUCKETS, this.#capacity) * FIELDS);
  }

  /** Buckets held now (≤ MAX_BUCKETS + 1). */
  get buckets(): number {
    return this.#length;
  }

  /** Bytes of point storage (the ring), for memory accounting. */
  get bytes(): number {
    return this.#data.byteLength;
  }

  /** Time of the newest point, or null when empty. */
  get lastTs(): number | null {
    return this.#length === 0 ? null : this.#get(this.#length - 1, T1);
  }

  /** Adds one point; false when it was dropped (not finite, or older than the newest bucket). */
  add(ts: number, value: number): boolean {
    if (!Number.isFinite(value) || !Number.isFinite(ts)) return false;
    if (this.spanMs === 0) return this.#replaceLast(ts, value);
    const index = Math.floor(ts / this.bucketMs);
    if (this.#length > 0) {
      const newest = Math.floor(this.#get(this.#length - 1, T0) / this.bucketMs);
      if (index < newest) return false;
      if (index === newest) {
        this.#merge(this.#length - 1, ts, value);
        return true;
      }
    }
    this.#push(ts, value);
    // Buckets whose newest point is out of the window ending at this point are gone for good.
    while (this.#length > 1 && this.#get(0, T1) <= ts - this.spanMs) this.#dropOldest();
    return true;
  }

  /** The aggregate over the window ending at the newest point, or null when there is none. */
  aggregate(aggregation: Aggregation): number | null {
    if (this.#length === 0) return null;
    if (aggregation === 'last') return this.#get(this.#length - 1, V1);
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    let count = 0;
    for (let i = 0; i < this.#length; i++) {
      min = Math.min(min, this.#get(i, MIN));
      max = Math.max(max, this.#get(i, MAX));
      sum += this.#get(i, SUM);
      count += this.#get(i, COUNT);
    }
    switch (aggregation) {
      case 'min':
        return min;
      case 'max':
        return max;
      case 'avg':
        return sum / count;
      default:
        return this.#p95();
    }
  }

  /**
   * Change per second over the window: (newest − oldest) / elapsed, from the first point of the
   * oldest bucket to the last point of the newest. Null with fewer than two points in time.
   */
  ratePerSecond(): number | null {
    if (this.#length === 0) return null;
    const t0 = this.#get(0, T0);
    const t1 = this.#get(this.#length - 1, T1);
    if (t1 <= t0) return null;
    return ((this.#get(this.#length - 1, V1) - this.#get(0, V0)) / (t1 - t0)) * 1000;
  }

  /**
   * The 95th percentile, weighted by points. A bucket of one point is that point; a merged bucket
   * stands for half its points at its min and half at its max, which keeps spikes visible (exact at
   * the 10 s cadence, approximate at 1 s).
   */
  #p95(): number {
    const values: [number, number][] = [];
    let total = 0;
    for (let i = 0; i < this.#length; i++) {
      const count = this.#get(i, COUNT);
      if (count === 1) values.push([this.#get(i, MIN), 1]);
      else {
        values.push([this.#get(i, MIN), count / 2], [this.#get(i, MAX), count / 2]);
      }
      total += count;
    }
    values.sort((a, b) => a[0] - b[0]);
    // Nearest rank: the smallest value with at least 95 % of the weight at or below it.
    const rank = 0.95 * total;
    let seen = 0;
    for (const [value, weight] of values) {
      seen += weight;
      if (seen >= rank - 1e-9) return value;
    }
    return values[values.length - 1]?.[0] ?? Number.NaN;
  }

  #slot(i: number): number {
    return ((this.#head + i) % (this.#data.length / FIELDS)) * FIELDS;
  }

  #get(i: number, field: number): number {
    return this.#data[this.#slot(i) + field] as number;
  }

  #replaceLast(ts: number, value: number): boolean {
    if (this.#length === 1 && ts < this.#get(0, T1)) return false;
    this.#head = 0;
    this.#length = 1;
    this.#data.set([ts, value, ts, value, value, value, value, 1], 0);
    return true;
  }

  #merge(i: number, ts: number, value: number): void {
    const at = this.#slot(i);
    const d = this.#data;
    if (ts < (d[at + T0] as number)) {
      d[at + T0] = ts;
      d[at + V0] = value;
    }
    if (ts >= (d[at + T1] as number)) {
      d[at + T1] = ts;
      d[at + V1] = value;
    }
    d[at + MIN] = Math.min(d[at + MIN] as number, value);
    d[at + MAX] = Math.max(d[at + MAX] as number, value);
    d[at + SUM] = (d[at + SUM] as number) + value;
    d[at + COUNT] = (d[at + COUNT] as number) + 1;
  }

  #push(ts: number, value: number): void {
    const slots = this.#data.length / FIELDS;
    if (this.#length === slots) {
      if (slots < this.#capacity) this.#grow(Math.min(this.#capacity, slots * 2));
      else this.#dropOldest();
    }
    this.#length++;
    this.#data.set([ts, value, ts, value, value, value, value, 1], this.#slot(this.#length - 1));
  }

  #grow(slots: number): void {
    const next = new Float64Array(slots * FIELDS);
    for (let i = 0; i < this.#length; i++)
      next.set(this.#data.subarray(this.#slot(i), this.#slot(i) + FIELDS), i * FIELDS);
    this.#data = next;
    this.#head = 0;
  }

  #dropOldest(): void {
    this.#head = (this.#head + 1) % (this.#data.length / FIELDS);
    this.#length--;
  }
}
