import { CustomMetric, customPoints, HostFacts, Sample, samplePoints } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import {
  SYNTHETIC_CORES,
  SYNTHETIC_MEM_TOTAL,
  syntheticCustomMetrics,
  syntheticCustomMetricsOver,
  syntheticHostFacts,
  syntheticSample,
  syntheticSamples,
  syntheticTimestamps,
} from './index.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MONDAY = Date.UTC(2026, 2, 2);

describe('syntheticSample', () => {
  it('is a valid ingest sample with about a hundred series every 10 s', () => {
    for (let ts = MONDAY; ts < MONDAY + DAY; ts += 37 * 60_000 + 10_000 * 7) {
      const sample = syntheticSample(7, ts - (ts % 10_000));
      expect(Sample.parse(sample)).toEqual(sample);
      const points = samplePoints(sample);
      // With its 11 custom series at 10 s: 99 values (design.md's reference host has about 100).
      expect(points.length).toBeGreaterThanOrEqual(85);
      expect(new Set(points.map((p) => p.metric))).toContain('container.cpu_pct');
      expect(sample.cpu?.perCore).toHaveLength(SYNTHETIC_CORES);
    }
  });

  it('depends on (seed, ts) alone', () => {
    const ts = MONDAY + 13 * HOUR;
    expect(syntheticSample(3, ts)).toEqual(syntheticSample(3, ts));
    const fromRange = [...syntheticSamples(3, { from: ts - 60_000, to: ts + 1 })].at(-1);
    expect(fromRange).toEqual(syntheticSample(3, ts));
    expect(syntheticSample(4, ts)).not.toEqual(syntheticSample(3, ts));
  });

  it('keeps memory and disk sizes in whole pages, and memory within the total', () => {
    for (let ts = MONDAY; ts < MONDAY + DAY; ts += 10 * 60_000) {
      const { memory, disks } = syntheticSample(1, ts);
      expect((memory?.used ?? 1) % 4096).toBe(0);
      expect(memory?.used).toBeLessThan(SYNTHETIC_MEM_TOTAL);
      expect((memory?.used ?? 0) + (memory?.available ?? 0)).toBe(SYNTHETIC_MEM_TOTAL);
      for (const disk of disks ?? []) expect(disk.used % 4096).toBe(0);
    }
  });

  it('is busier in the afternoon than at night, and on weekdays than on Sundays', () => {
    const meanCpu = (from: number, to: number) => {
      const values = [...syntheticSamples(2, { from, to, cadenceMs: 60_000 })].map((s) => s.cpu?.total ?? 0);
      return values.reduce((a, b) => a + b, 0) / values.length;
    };
    const night = meanCpu(MONDAY + 1 * HOUR, MONDAY + 4 * HOUR);
    const afternoon = meanCpu(MONDAY + 13 * HOUR, MONDAY + 16 * HOUR);
    const sunday = meanCpu(MONDAY - DAY + 13 * HOUR, MONDAY - DAY + 16 * HOUR);
    expect(afternoon).toBeGreaterThan(night + 10);
    expect(afternoon).toBeGreaterThan(sunday);
  });

  it('fills disks through the week and prunes them on Sunday', () => {
    const rootUsed = (ts: number) => syntheticSample(1, ts).disks?.find((d) => d.mount === '/')?.used ?? 0;
    const sunday = MONDAY - DAY;
    expect(rootUsed(sunday + 6 * DAY - HOUR)).toBeGreaterThan(rootUsed(sunday + DAY));
    expect(rootUsed(sunday + 7 * DAY + 60_000)).toBeLessThan(rootUsed(sunday + 7 * DAY - 60_000));
  });

  it('counts errors up since boot and restarts them at the 30-day reboot', () => {
    const errors = (ts: number) => syntheticSample(9, ts).net?.find((n) => n.iface === 'eth0')?.rxErrors ?? 0;
    const boot = syntheticHostFacts(9, MONDAY).bootTime;
    expect(errors(boot + 29 * DAY)).toBeGreaterThan(errors(boot + DAY));
    expect(errors(boot + 30 * DAY)).toBe(0);
    expect(HostFacts.parse(syntheticHostFacts(9, MONDAY)).bootTime).toBeLessThanOrEqual(MONDAY);
  });

  it('leaves throttled sections out between their boundaries at the 1 s cadence, as the agent does', () => {
    const at = (offset: number) => syntheticSample(1, MONDAY + offset);
    expect(at(1000).containers).toBeUndefined();
    expect(at(1000).gpus).toBeUndefined();
    expect(at(2000).gpus).toHaveLength(1);
    expect(at(5000).containers).toHaveLength(5);
    expect(syntheticSample(1, MONDAY, { gpus: 0 }).gpus).toBeUndefined();
  });
});

describe('syntheticTimestamps', () => {
  it('steps at the cadence, aligned, with 1 s live stretches', () => {
    const from = MONDAY + 5_500;
    const times = [
      ...syntheticTimestamps({ from, to: from + 60_000, live: [{ from: from + 20_000, to: from + 25_000 }] }),
    ];
    const offsets = times.map((t) => t - MONDAY);
    expect(offsets).toEqual([10_000, 20_000, 26_000, 27_000, 28_000, 29_000, 30_000, 40_000, 50_000, 60_000]);
  });

  it('handles overlapping live stretches and a range with none', () => {
    const live = [
      { from: MONDAY + 3_000, to: MONDAY + 6_000 },
      { from: MONDAY + 1_000, to: MONDAY + 4_000 },
    ];
    expect([...syntheticTimestamps({ from: MONDAY, to: MONDAY + 11_000, live })].map((t) => t - MONDAY)).toEqual([
      0, 1000, 2000, 3000, 4000, 5000, 10_000,
    ]);
    expect([...syntheticTimestamps({ from: MONDAY, to: MONDAY })]).toEqual([]);
  });
});

describe('synthetic custom metrics', () => {
  it('are valid: gauges, counters of increments and a histogram summary', () => {
    const metrics = syntheticCustomMetrics(1, MONDAY + 14 * HOUR);
    for (const metric of metrics) expect(CustomMetric.parse(metric)).toEqual(metric);
    expect(metrics.map((m) => m.kind)).toEqual(['gauge', 'counter', 'gauge', 'counter', 'histogram']);
    expect(metrics.flatMap(customPoints)).toHaveLength(11);
  });

  it('come every cadence over a range', () => {
    const metrics = [...syntheticCustomMetricsOver(1, { from: MONDAY, to: MONDAY + 60_000 })];
    expect(metrics).toHaveLength(6 * 5);
  });
});
