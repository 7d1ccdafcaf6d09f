/**
 * min/avg/max/count per time bucket of one series, fed either raw values or rollup points (a rollup point
 * weighs as many values as its count, so an average of averages stays the average of the values).
 * Buckets are step-aligned in UTC: bucket i starts at `start + i·step`, and `start` is a multiple of `step`.
 */
export class BucketStats {
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly sum: Float64Array;
  readonly count: Float64Array;

  constructor(length: number) {
    this.min = new Float64Array(length).fill(Number.POSITIVE_INFINITY);
    this.max = new Float64Array(length).fill(Number.NEGATIVE_INFINITY);
    this.sum = new Float64Array(length);
    this.count = new Float64Array(length);
  }

  addValue(bucket: number, value: number): void {
    this.addSummary(bucket, value, value, value, 1);
  }

  addSummary(bucket: number, min: number, avg: number, max: number, count: number): void {
    if (min < (this.min[bucket] as number)) this.min[bucket] = min;
    if (max > (this.max[bucket] as number)) this.max[bucket] = max;
    this.sum[bucket] = (this.sum[bucket] as number) + avg * count;
    this.count[bucket] = (this.count[bucket] as number) + count;
  }

  has(bucket: number): boolean {
    return (this.count[bucket] as number) > 0;
  }

  avg(bucket: number): number {
    return (this.sum[bucket] as number) / (this.count[bucket] as number);
  }
}

/** The start of the UTC-aligned bucket holding `ts`. */
export function bucketStart(ts: number, stepMs: number): number {
  return Math.floor(ts / stepMs) * stepMs;
}
