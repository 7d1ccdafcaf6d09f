import { describe, expect, it } from 'vitest';
import { distribution, percentile } from './stats.ts';

describe('percentiles', () => {
  it('uses the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted on purpose
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarises a distribution', () => {
    expect(distribution([3, 1, 2])).toEqual({ count: 3, p50: 2, p95: 3, p99: 3, max: 3 });
    expect(distribution([]).max).toBeNaN();
  });

  it('takes the fan-out’s hundreds of thousands of receipts', () => {
    const values = Array.from({ length: 300_000 }, (_, i) => i % 1000);
    expect(distribution(values).max).toBe(999);
  });
});
