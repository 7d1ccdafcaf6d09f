import { describe, expect, it } from 'vitest';
import { MAX_BUCKETS, SeriesWindow, type WindowMemory } from './series-window.ts';

const T = 1_800_000_000_000;

describe('SeriesWindow', () => {
  it('aggregates exactly at the 10 s cadence over the last 300 s only', () => {
    const w = new SeriesWindow(300);
    // 10 minutes of 0, 1, 2 … 59 every 10 s: the window ending at the last holds 30 … 59.
    for (let i = 0; i < 60; i++) w.add(T + i * 10_000, i);
    expect(w.aggregate('last')).toBe(59);
    expect(w.aggregate('min')).toBe(30);
    expect(w.aggregate('max')).toBe(59);
    expect(w.aggregate('avg')).toBe(44.5);
    // Nearest rank of 30 values: the 29th smallest.
    expect(w.aggregate('p95')).toBe(58);
    expect(w.buckets).toBe(30);
  });

  it('keeps at most 121 buckets however fast the series comes, and avg/min/max stay exact', () => {
    const w = new SeriesWindow(3600);
    // Two hours at 1 s: 7,200 points; the window holds the last hour.
    let sum = 0;
    for (let i = 0; i < 7200; i++) {
      w.add(T + i * 1000, i % 100);
      if (i >= 3600) sum += i % 100;
    }
    expect(w.buckets).toBeLessThanOrEqual(MAX_BUCKETS + 1);
    expect(w.bytes).toBeLessThanOrEqual((MAX_BUCKETS + 1) * 64);
    expect(w.aggregate('min')).toBe(0);
    expect(w.aggregate('max')).toBe(99);
    // Buckets are 30 s: the window's first bucket is counted whole, an error under one bucket.
    expect(w.aggregate('avg')).toBeCloseTo(sum / 3600, 0);
  });

  it('approximates p95 within a few points when buckets merge several points', () => {
    const w = new SeriesWindow(300);
    // A repeatable pseudo-random series 0..100 at 1 s: 2–3 points per 2.5 s bucket.
    let x = 12345;
    const values: number[] = [];
    for (let i = 0; i < 300; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const v = (x / 2 ** 31) * 100;
      values.push(v);
      w.add(T + i * 1000, v);
    }
    const sorted = [...values].sort((a, b) => a - b);
    const exact = sorted[Math.ceil(0.95 * sorted.length) - 1] as number;
    const approx = w.aggregate('p95') as number;
    expect(Math.abs(approx - exact)).toBeLessThan(4);
  });

  it('measures the rate of change from the oldest point to the newest', () => {
    const w = new SeriesWindow(60);
    for (let i = 0; i <= 120; i++) w.add(T + i * 1000, 10 + 2 * i); // +2 per second
    expect(w.ratePerSecond()).toBeCloseTo(2, 9);
    const one = new SeriesWindow(60);
    one.add(T, 5);
    expect(one.ratePerSecond()).toBeNull();
  });

  it('drops points older than the newest bucket and values that are not finite', () => {
    const w = new SeriesWindow(300);
    expect(w.add(T + 100_000, 1)).toBe(true);
    expect(w.add(T, 1000)).toBe(false);
    expect(w.add(T + 110_000, Number.NaN)).toBe(false);
    expect(w.aggregate('max')).toBe(1);
  });

  it('with no window keeps only the newest point', () => {
    const w = new SeriesWindow(0);
    w.add(T, 1);
    w.add(T + 10_000, 2);
    expect(w.add(T + 5_000, 3)).toBe(false);
    expect(w.aggregate('last')).toBe(2);
    expect(w.aggregate('avg')).toBe(2);
    expect(w.buckets).toBe(1);
    expect(w.lastTs).toBe(T + 10_000);
  });

  it('keeps one point in 16 bytes at the 10 s cadence: a 300 s window holds its points in what it opened with', () => {
    const w = new SeriesWindow(300);
    for (let i = 0; i < 90; i++) w.add(T + i * 10_000, i);
    expect(w.buckets).toBe(30);
    expect(w.bytes).toBe(32 * 16);
    expect(w.grantedBytes).toBe(SeriesWindow.openingBytes(300));
    expect(SeriesWindow.openingBytes(0)).toBe(16);
  });

  it('merges at the 1 s cadence with memory it asks for, and gives it back once its merged buckets have left', () => {
    const ledger = { granted: 0, refuse: false };
    const memory: WindowMemory = {
      grow: (bytes) => {
        if (ledger.refuse) return false;
        ledger.granted += bytes;
        return true;
      },
      shrink: (bytes) => {
        ledger.granted -= bytes;
      },
    };
    const w = new SeriesWindow(300, memory);
    const values: [number, number][] = [];
    const add = (ts: number, v: number) => {
      w.add(ts, v);
      values.push([ts, v]);
    };
    const exactAvg = () => {
      // Every bucket is whole at these times: the window holds exactly the points after newest − 300 s.
      const newest = values[values.length - 1]?.[0] as number;
      const inside = values.filter(([ts]) => ts > newest - 300_000).map(([, v]) => v);
      return inside.reduce((a, b) => a + b, 0) / inside.length;
    };
    let ts = T;
    for (let i = 0; i < 40; i++, ts += 10_000) add(ts, i % 7); // 10 s
    expect(ledger.granted).toBe(0);
    for (let i = 0; i < 120; i++, ts += 1000) add(ts, (i * 13) % 17); // 1 s, live
    expect(ledger.granted).toBeGreaterThan(0);
    expect(w.bytes).toBeGreaterThan(SeriesWindow.openingBytes(300));
    expect(w.aggregate('max')).toBe(16);
    expect(w.aggregate('last')).toBe((119 * 13) % 17);
    for (let i = 0; i < 40; i++, ts += 10_000) add(ts, 100 + i); // 10 s again, past the window's length
    expect(w.aggregate('avg')).toBe(exactAvg());
    expect(w.bytes).toBeLessThanOrEqual(SeriesWindow.openingBytes(300));
    expect(ledger.granted).toBe(0);
    expect(w.degraded).toBe(false);
  });

  it('refused memory at the 1 s cadence: keeps the newest point of a bucket and its newest buckets, and says so', () => {
    const w = new SeriesWindow(300, { grow: () => false, shrink: () => {} });
    for (let i = 0; i < 300; i++) w.add(T + i * 1000, i);
    expect(w.degraded).toBe(true);
    expect(w.bytes).toBeLessThanOrEqual(SeriesWindow.openingBytes(300));
    expect(w.aggregate('last')).toBe(299);
    expect(w.aggregate('max')).toBe(299);
    // 32 buckets of 2.5 s, one point each: the last 80 s, not 300.
    expect(w.buckets).toBe(32);
    expect(w.aggregate('min')).toBeGreaterThan(200);
  });
});
