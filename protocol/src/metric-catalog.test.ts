import { describe, expect, it } from 'vitest';
import type { Sample } from './ingest.ts';
import {
  customPoints,
  METRICS,
  metricDefinition,
  samplePoints,
  seriesDimensions,
  seriesKey,
} from './metric-catalog.ts';

const TS = 1_800_000_000_000;

function byKey(points: ReturnType<typeof samplePoints>): Record<string, number> {
  return Object.fromEntries(points.map((p) => [seriesKey(p.metric, p.labels), p.value]));
}

describe('metric catalogue', () => {
  it('knows every listed path once, and dimensions come from the known set', () => {
    expect(new Set(METRICS.map((m) => m.path)).size).toBe(METRICS.length);
    for (const m of METRICS) {
      expect(metricDefinition(m.path)).toBe(m);
      if (m.dimension) expect(seriesDimensions).toContain(m.dimension);
    }
  });

  it('makes up a definition for custom.<name> and refuses anything else', () => {
    expect(metricDefinition('custom.queue_depth')).toEqual({
      path: 'custom.queue_depth',
      title: 'queue_depth',
      unit: 'number',
    });
    expect(metricDefinition('custom.http.latency.p99')?.title).toBe('http.latency.p99');
    for (const bad of ['custom.', 'custom.9lives', 'custom.a b', 'cpu', 'cpu.total.x', `custom.${'a'.repeat(201)}`]) {
      expect(metricDefinition(bad)).toBeNull();
    }
  });

  it('keys series Prometheus style: labels sorted by name, values quoted and escaped', () => {
    expect(seriesKey('cpu.total', {})).toBe('cpu.total');
    expect(seriesKey('custom.q', { b: '2', a: '1' })).toBe('custom.q{a="1",b="2"}');
    expect(seriesKey('disk.used_pct', { mount: 'C:\\ "x"' })).toBe('disk.used_pct{mount="C:\\\\ \\"x\\""}');
  });
});

describe('samplePoints', () => {
  const full: Sample = {
    ts: TS,
    cpu: { total: 50, user: 30, system: 15, iowait: 4, steal: 1, perCore: [50, 50] },
    load: { 1: 1.5, 5: 1, 15: 0.5 },
    memory: { total: 8e9, used: 5e9, available: 2e9, cached: 1e9, swapTotal: 4e9, swapUsed: 1e9 },
    disks: [{ mount: '/', fs: '/dev/sda1', type: 'ext4', size: 100, used: 120, usedPct: 100 }],
    diskIo: { readBytesPerSec: 1, writeBytesPerSec: 2, readOpsPerSec: 3, writeOpsPerSec: 4 },
    net: [
      {
        iface: 'eth0',
        rxBytesPerSec: 10,
        txBytesPerSec: 20,
        rxPacketsPerSec: 1,
        txPacketsPerSec: 1,
        rxErrors: 5,
        txErrors: 6,
        rxTotal: 0,
        txTotal: 0,
      },
    ],
    gpus: [
      { index: 0, name: 'A100', utilPct: 70, memUsed: 20, memTotal: 80, tempC: 60, powerW: 300 },
      { index: 1, name: 'T4', utilPct: 5, memUsed: 1 }, // no memTotal: no memory percentage
    ],
    containers: [
      { id: 'abc', name: 'db', image: 'postgres', state: 'running', cpuPct: 150, memUsed: 50, memLimit: 200 },
      { id: 'def', name: 'job', image: 'busybox', state: 'exited' },
    ],
    processes: { total: 300, running: 2, sleeping: 297, blocked: 1, topCpu: [], topMem: [] },
    temps: [{ label: 'Package id 0', c: 55 }],
    agent: { cpuPct: 0.4, rssBytes: 4e7, queueDepth: 0, spoolDepth: 2 },
  };

  it('flattens a full sample into one point per series, derived values included', () => {
    const points = byKey(samplePoints(full));
    expect(points).toMatchObject({
      'cpu.total': 50,
      'cpu.steal': 1,
      'load.15': 0.5,
      'memory.used_pct': 75, // (total − available) / total, not used / total
      'memory.available': 2e9,
      'swap.used_pct': 25,
      'disk.used_pct{mount="/"}': 100,
      'disk.free{mount="/"}': 0, // never negative
      'disk_io.write_ops': 4,
      'net.rx_errors{iface="eth0"}': 5,
      'gpu.mem_used_pct{gpu="0"}': 25,
      'gpu.power{gpu="0"}': 300,
      'gpu.util_pct{gpu="1"}': 5,
      'container.cpu_pct{container="db"}': 150,
      'container.mem_pct{container="db"}': 25,
      'container.running{container="db"}': 1,
      'container.running{container="job"}': 0,
      'processes.blocked': 1,
      'temp{sensor="Package id 0"}': 55,
      'agent.spool_depth': 2,
    });
    expect(points).not.toHaveProperty(['gpu.mem_used_pct{gpu="1"}']);
    expect(points).not.toHaveProperty(['container.mem_pct{container="job"}']);
    // Every point names a catalogue metric.
    for (const p of samplePoints(full)) expect(metricDefinition(p.metric)).not.toBeNull();
  });

  it('leaves out what a sample lacks: no swap, no memory total, missing sections', () => {
    const points = byKey(
      samplePoints({
        ts: TS,
        memory: { total: 0, used: 0, available: 0, cached: 0, swapTotal: 0, swapUsed: 0 },
      }),
    );
    expect(points).toEqual({ 'memory.used': 0, 'memory.available': 0 });
    expect(samplePoints({ ts: TS })).toEqual([]);
  });
});

describe('customPoints', () => {
  it('gives gauges, counters and sets one series, with their labels', () => {
    expect(customPoints({ name: 'queue_depth', kind: 'gauge', ts: TS, value: 7, labels: { queue: 'mail' } })).toEqual([
      { metric: 'custom.queue_depth', labels: { queue: 'mail' }, value: 7 },
    ]);
    expect(customPoints({ name: 'users', kind: 'set', ts: TS, value: 3 })).toEqual([
      { metric: 'custom.users', labels: {}, value: 3 },
    ]);
  });

  it('gives a histogram one series per statistic, the average from sum / count', () => {
    const points = customPoints({
      name: 'http.latency',
      kind: 'histogram',
      ts: TS,
      hist: { count: 4, sum: 100, min: 5, max: 60, p50: 20, p90: 50, p99: 59 },
    });
    expect(Object.fromEntries(points.map((p) => [p.metric, p.value]))).toEqual({
      'custom.http.latency.count': 4,
      'custom.http.latency.avg': 25,
      'custom.http.latency.min': 5,
      'custom.http.latency.max': 60,
      'custom.http.latency.p50': 20,
      'custom.http.latency.p90': 50,
      'custom.http.latency.p99': 59,
    });
  });
});
