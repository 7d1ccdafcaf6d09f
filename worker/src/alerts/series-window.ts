import { type aggregations, DEFAULT_CADENCE } from '@pulsewire/protocol';

export type Aggregation = (typeof aggregations)[number];

/**
 * The most buckets one window keeps. Points that fall into the same bucket (window / 120 wide) are
 * merged, so a series costs at most ~121 merged buckets whatever its cadence: 1 s while someone
 * watches the host live, 10 s otherwise. At 10 s every 300 s-window bucket holds one point and every
 * aggregate is exact; at 1 s a bucket holds 2–3 points and only `p95` becomes approximate.
 */
export const MAX_BUCKETS = 120;

/**
 * Two layouts, in one flat array of numbers (8 bytes each, a single allocation per window):
 * - lean, while every bucket holds one point (the 10 s cadence): time and value, 16 bytes a bucket;
 * - merged, once two points share a bucket (the 1 s live cadence, or windows over 20 minutes): first
 *   and last point, min, max, sum and count, 64 bytes a bucket. A window goes back to lean when its
 *   last merged bucket leaves it.
 * The layout changes what a bucket costs, never what it says: a lean bucket is a merged bucket of
 * count 1.
 */
const LEAN = 2;
const FULL = 8;
// Merged layout fields.
const T0 = 0;
const V0 = 1;
const T1 = 2;
const V1 = 3;
const MIN = 4;
const MAX = 5;
const SUM = 6;
const COUNT = 7;
const INITIAL_BUCKETS = 4;
const NUMBER_BYTES = 8;

/**
 * Where a window asks for memory beyond what it opened with (the alert engine's budget): room for
 * more buckets or for the merged layout, both needed only at a cadence faster than 10 s. Refused, the
 * window is degraded: it keeps the newest point of a bucket rather than merging a second one into
 * it, and drops its oldest bucket rather than growing (so it may cover less than its length).
 */
export interface WindowMemory {
  grow(bytes: number): boolean;
  shrink(bytes: number): void;
}

const UNLIMITED: WindowMemory = { grow: () => true, shrink: () => {} };

/** What every window of one length shares, so that a window carries only its points. */
interface Shape {
  seconds: number;
  spanMs: number;
  bucketMs: number;
  capacity: number;
  /** Buckets a window opens with: enough for its whole length at the agents' 10 s cadence. */
  opening: number;
}

const shapes = new Map<number, Shape>();

function shapeOf(windowSeconds: number): Shape {
  let shape = shapes.get(windowSeconds);
  if (!shape) {
    const spanMs = Math.max(0, windowSeconds) * 1000;
    // +1: the window's start usually cuts a bucket in two.
    const capacity = spanMs === 0 ? 1 : MAX_BUCKETS + 1;
    let opening = Math.min(INITIAL_BUCKETS, capacity);
    const atTenSeconds = Math.ceil(spanMs / DEFAULT_CADENCE.collectIntervalMs) + 1;
    while (opening < Math.min(capacity, atTenSeconds)) opening = Math.min(capacity, opening * 2);
    shape = {
      seconds: windowSeconds,
      spanMs,
      bucketMs: spanMs === 0 ? 1 : Math.max(1, Math.ceil(spanMs / MAX_BUCKETS)),
      capacity,
      opening,
    };
    shapes.set(windowSeconds, shape);
  }
  return shape;
}

function zeros(length: number): number[] {
  return new Array<number>(length).fill(0);
}

/**
 * The recent points of one series for one aggregation window (seconds), bounded in memory: a ring
 * of time buckets. A window of 0 keeps only the newest point (`last`).
 *
 * Time is the samples' time. A point older than the newest bucket arrives too late to change the
 * present and is dropped; a bucket that straddles the window's start is counted whole (an error of
 * at most one bucket, under 1 % of the window).
 */
export class SeriesWindow {
  /**
   * What a window of this length may hold without asking: its whole length at the 10 s cadence, in
   * the lean layout. The engine charges it when the window opens.
   */
  static openingBytes(windowSeconds: number): number {
    return shapeOf(windowSeconds).opening * LEAN * NUMBER_BYTES;
  }

  readonly #shape: Shape;
  readonly #memory: WindowMemory;
  /** Buckets in ring order, LEAN or FULL numbers each (a plain array of doubles: no ArrayBuffer per window). */
  #data: number[];
  #fields: typeof LEAN | typeof FULL = LEAN;
  /** Index (in buckets) of the oldest bucket in the ring, and how many there are. */
  #head = 0;
  #length = 0;
  /** Buckets holding more than one point: the merged layout is needed while there are any. */
  #merged = 0;
  /** Refused memory since it opened: see {@link WindowMemory}. */
  #degraded = false;

  constructor(windowSeconds: number, memory: WindowMemory = UNLIMITED) {
    this.#shape = shapeOf(windowSeconds);
    this.#memory = memory;
    this.#data = zeros(Math.min(INITIAL_BUCKETS, this.#shape.capacity) * LEAN);
  }

  /** The window's length as rules give it. */
  get seconds(): number {
    return this.#shape.seconds;
  }

  get spanMs(): number {
    return this.#shape.spanMs;
  }

  get bucketMs(): number {
    return this.#shape.bucketMs;
  }

  /** Buckets held now (≤ MAX_BUCKETS + 1). */
  get buckets(): number {
    return this.#length;
  }

  /** Bytes of point storage now, for memory accounting. */
  get bytes(): number {
    return this.#data.length * NUMBER_BYTES;
  }

  /**
   * Bytes of points it may hold without asking (what the engine has charged for it): what it opened
   * with, or what it holds when it was granted more (a window allocates exactly what it is granted).
   */
  get grantedBytes(): number {
    return Math.max(this.bytes, SeriesWindow.openingBytes(this.#shape.seconds));
  }

  /** True when the window was refused memory since it opened, and so kept fewer points. */
  get degraded(): boolean {
    return this.#degraded;
  }

  /** Time of the newest point, or null when empty. */
  get lastTs(): number | null {
    return this.#length === 0 ? null : this.#get(this.#length - 1, T1);
  }

  /** Adds one point; false when it was dropped (not finite, or older than the newest bucket). */
  add(ts: number, value: number): boolean {
    if (!Number.isFinite(value) || !Number.isFinite(ts)) return false;
    const { spanMs, bucketMs } = this.#shape;
    if (spanMs === 0) return this.#replaceLast(ts, value);
    const index = Math.floor(ts / bucketMs);
    if (this.#length > 0) {
      const newest = Math.floor(this.#get(this.#length - 1, T0) / bucketMs);
      if (index < newest) return false;
      if (index === newest) return this.#mergeNewest(ts, value);
    }
    this.#push(ts, value);
    // Buckets whose newest point is out of the window ending at this point are gone for good.
    while (this.#length > 1 && this.#get(0, T1) <= ts - spanMs) this.#dropOldest();
    if (this.#fields === FULL && this.#merged === 0) this.#relayout(LEAN);
    return true;
  }

  /** The aggregate over the window ending at the newest point, or null when there is none. */
  aggregate(aggregation: Aggregation): number | null {
    if (this.#length === 0) return null;
    if (aggregation === 'last') return this.#get(this.#length - 1, V1);
    if (this.#fields === LEAN) return this.#leanAggregate(aggregation);
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

  /** The same over buckets of one point each, read straight from the ring (the common case, and hot). */
  #leanAggregate(aggregation: Exclude<Aggregation, 'last'>): number {
    const d = this.#data;
    const end = d.length;
    let at = this.#head * LEAN;
    if (aggregation === 'p95') {
      const values = new Float64Array(this.#length);
      for (let i = 0; i < values.length; i++, at = at + LEAN === end ? 0 : at + LEAN) values[i] = d[at + 1] as number;
      values.sort();
      // Nearest rank, as #p95 with every weight 1: the first value with 95 % of the points at or below it.
      const rank = 0.95 * values.length;
      for (let i = 0; i < values.length; i++) if (i + 1 >= rank - 1e-9) return values[i] as number;
      return values[values.length - 1] as number;
    }
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    for (let i = 0; i < this.#length; i++, at = at + LEAN === end ? 0 : at + LEAN) {
      const value = d[at + 1] as number;
      if (value < min) min = value;
      if (value > max) max = value;
      sum += value;
    }
    return aggregation === 'min' ? min : aggregation === 'max' ? max : sum / this.#length;
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

  #slots(): number {
    return this.#data.length / this.#fields;
  }

  #slot(i: number): number {
    return ((this.#head + i) % this.#slots()) * this.#fields;
  }

  /** A field of the merged layout, whichever layout holds the bucket. */
  #get(i: number, field: number): number {
    const at = this.#slot(i);
    if (this.#fields === FULL) return this.#data[at + field] as number;
    if (field === COUNT) return 1;
    return this.#data[at + (field === T0 || field === T1 ? 0 : 1)] as number;
  }

  #write(at: number, ts: number, value: number): void {
    const d = this.#data;
    d[at] = ts;
    d[at + 1] = value;
    if (this.#fields === LEAN) return;
    d[at + T1] = ts;
    d[at + V1] = value;
    d[at + MIN] = value;
    d[at + MAX] = value;
    d[at + SUM] = value;
    d[at + COUNT] = 1;
  }

  #replaceLast(ts: number, value: number): boolean {
    if (this.#length === 1 && ts < this.#get(0, T1)) return false;
    this.#head = 0;
    this.#length = 1;
    this.#write(0, ts, value);
    return true;
  }

  /** A second point in the newest bucket: merged (the merged layout), or the newer one kept when memory is refused. */
  #mergeNewest(ts: number, value: number): boolean {
    if (this.#fields === LEAN && !this.#relayout(FULL)) {
      const at = this.#slot(this.#length - 1);
      if (ts < (this.#data[at] as number)) return false;
      this.#write(at, ts, value);
      return true;
    }
    const at = this.#slot(this.#length - 1);
    const d = this.#data;
    if (d[at + COUNT] === 1) this.#merged++;
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
    return true;
  }

  #push(ts: number, value: number): void {
    const slots = this.#slots();
    if (this.#length === slots) {
      const more = Math.min(this.#shape.capacity, slots * 2);
      if (more === slots || !this.#afford(more * this.#fields)) this.#dropOldest();
      else this.#copyInto(more, this.#fields);
    }
    this.#length++;
    this.#write(this.#slot(this.#length - 1), ts, value);
  }

  /**
   * Changes layout. The merged one is taken only with room for as many buckets as the window opened
   * with (fewer merged buckets would cover less time than lean ones); false when refused. Back to
   * lean, the window gives back what it was granted beyond its opening bytes.
   */
  #relayout(fields: typeof LEAN | typeof FULL): boolean {
    const slots = Math.max(this.#length, this.#shape.opening, fields === FULL ? this.#slots() : 0);
    if (fields === FULL && !this.#afford(slots * FULL)) return false;
    const granted = this.grantedBytes;
    this.#copyInto(slots, fields);
    if (fields === LEAN) this.#memory.shrink(granted - this.grantedBytes);
    return true;
  }

  /**
   * Room for `numbers` numbers of points, which the caller then allocates: within what was granted,
   * or granted now; false (degraded) when refused.
   */
  #afford(numbers: number): boolean {
    const extra = numbers * NUMBER_BYTES - this.grantedBytes;
    if (extra <= 0) return true;
    if (this.#memory.grow(extra)) return true;
    this.#degraded = true;
    return false;
  }

  /** Copies the buckets, oldest first, into a new ring of `slots` buckets in the given layout. */
  #copyInto(slots: number, fields: typeof LEAN | typeof FULL): void {
    const next = zeros(slots * fields);
    const fieldsNow = this.#fields;
    for (let i = 0; i < this.#length; i++) {
      const at = i * fields;
      if (fields === fieldsNow) {
        const from = this.#slot(i);
        for (let f = 0; f < fields; f++) next[at + f] = this.#data[from + f] as number;
      } else if (fields === LEAN) {
        // Only buckets of one point are left: first and last point are the same.
        next[at] = this.#get(i, T1);
        next[at + 1] = this.#get(i, V1);
      } else {
        const ts = this.#get(i, T0);
        const value = this.#get(i, V0);
        next[at + T0] = ts;
        next[at + V0] = value;
        next[at + T1] = ts;
        next[at + V1] = value;
        next[at + MIN] = value;
        next[at + MAX] = value;
        next[at + SUM] = value;
        next[at + COUNT] = 1;
      }
    }
    this.#data = next;
    this.#fields = fields;
    this.#head = 0;
  }

  #dropOldest(): void {
    if (this.#fields === FULL && this.#get(0, COUNT) > 1) this.#merged--;
    this.#head = (this.#head + 1) % this.#slots();
    this.#length--;
  }
}
