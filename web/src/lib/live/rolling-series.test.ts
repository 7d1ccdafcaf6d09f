import type { LiveSample } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import {
  breakGaps,
  type ChartRow,
  containerSeries,
  cpuSeries,
  diskIoSeries,
  gpuSeries,
  memoryPctSeries,
  memorySeries,
  mergeSamples,
  networkSeries,
  networkTotalSeries,
  perCoreSeries,
  RollingSeries,
  swapSeries,
} from './rolling-series.svelte.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const s = (ts: number, extra: Partial<LiveSample> = {}): LiveSample => ({ ts, ...extra });
const tsOf = (points: readonly LiveSample[]) => points.map((p) => p.ts);

describe('mergeSamples', () => {
  it('appends newer points and keeps order', () => {
    const merged = mergeSamples([s(1), s(2)], [s(3), s(4)]);
    expect(tsOf(merged)).toEqual([1, 2, 3, 4]);
  });

  it('merges out-of-order gap-fill points, de-duplicating by ts (the incoming copy wins)', () => {
    const live = [s(1), s(5, { load1: 1 }), s(6)];
    const fill = [s(4), s(2), s(5, { load1: 2 }), s(3)];
    const merged = mergeSamples(live, fill);
    expect(tsOf(merged)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(merged[4]?.load1).toBe(2);
  });

  it('de-duplicates inside one batch too', () => {
    expect(tsOf(mergeSamples([], [s(2), s(1), s(2)]))).toEqual([1, 2]);
    expect(tsOf(mergeSamples([s(1)], [s(2), s(2)]))).toEqual([1, 2]);
  });

  it('returns the same array when nothing comes in', () => {
    const points = [s(1)];
    expect(mergeSamples(points, [])).toBe(points);
  });
});

describe('RollingSeries', () => {
  it('keeps only the last N minutes, trimming on add and on tick', () => {
    let now = T0;
    const rolling = new RollingSeries({ windowMs: 60_000, now: () => now });
    rolling.add([s(T0 - 70_000), s(T0 - 30_000), s(T0 - 1_000)]);
    expect(tsOf(rolling.points)).toEqual([T0 - 30_000, T0 - 1_000]);
    now = T0 + 31_000;
    rolling.tick();
    expect(tsOf(rolling.points)).toEqual([T0 - 1_000]);
    expect(rolling.from).toBe(T0 + 31_000 - 60_000);
    now = T0 + 120_000;
    rolling.tick();
    expect(rolling.points).toEqual([]);
  });

  it('defaults to a 5-minute window', () => {
    const rolling = new RollingSeries({ now: () => T0 });
    rolling.add([s(T0 - 5 * 60_000 - 1), s(T0 - 5 * 60_000), s(T0)]);
    expect(tsOf(rolling.points)).toEqual([T0 - 5 * 60_000, T0]);
  });

  it('merges a gap fill between live points and updates derived series', () => {
    const rolling = new RollingSeries({ now: () => T0 });
    const cpu = (total: number) => ({ total, user: total, system: 0, iowait: 0, steal: 0, perCore: [total] });
    rolling.add([s(T0 - 10_000, { cpu: cpu(10) }), s(T0 - 1_000, { cpu: cpu(90) })]);
    expect(rolling.cpuTotal.rows.map((r) => r.values.total)).toEqual([10, 90]);
    rolling.add([s(T0 - 5_000, { cpu: cpu(50) }), s(T0 - 10_000, { cpu: cpu(11) })]);
    expect(rolling.cpuTotal.rows.map((r) => [r.ts, r.values.total])).toEqual([
      [T0 - 10_000, 11],
      [T0 - 5_000, 50],
      [T0 - 1_000, 90],
    ]);
    expect(rolling.latest?.ts).toBe(T0 - 1_000);
    expect(rolling.cpuTotal.rows[0]?.date).toEqual(new Date(T0 - 10_000));
  });
});

describe('derived series', () => {
  const points: LiveSample[] = [
    s(T0, {
      cpu: { total: 40, user: 25, system: 10, iowait: 5, steal: 0, perCore: [30, 50] },
      mem: { total: 1000, used: 400, cached: 300, swapTotal: 100, swapUsed: 10 },
      diskIo: { read: 1_000, write: 2_000 },
      net: [
        { iface: 'eth0', rx: 100, tx: 50 },
        { iface: 'wg0', rx: 7, tx: 3 },
      ],
      gpus: [{ index: 0, name: 'H100', util: 80, memUsed: 40, memTotal: 80, tempC: 61 }],
      containers: [
        { name: 'web', state: 'running', cpuPct: 12, memUsed: 5_000 },
        { name: 'db', state: 'running', cpuPct: 3 },
      ],
    }),
    s(T0 + 1_000, {
      cpu: { total: 60, user: 30, system: 20, iowait: 5, steal: 5, perCore: [60, 60] },
      net: [{ iface: 'eth0', rx: 200, tx: 10 }],
      gpus: [
        { index: 1, name: 'H100', util: 10 },
        { index: 0, name: 'H100', util: 90 },
      ],
    }),
    s(T0 + 2_000, { load1: 1 }),
  ];

  it('CPU: user/system/iowait rows, steal only when some host time was stolen', () => {
    const cpu = cpuSeries(points);
    expect(cpu.unit).toBe('percent');
    expect(cpu.series.map((x) => x.key)).toEqual(['user', 'system', 'iowait', 'steal']);
    expect(cpu.rows.map((r) => r.values)).toEqual([
      { user: 25, system: 10, iowait: 5, steal: 0, total: 40 },
      { user: 30, system: 20, iowait: 5, steal: 5, total: 60 },
    ]);
    expect(cpuSeries(points.slice(0, 1)).series.map((x) => x.key)).toEqual(['user', 'system', 'iowait']);
  });

  it('per core', () => {
    const cores = perCoreSeries(points);
    expect(cores.series.map((x) => x.key)).toEqual(['core0', 'core1']);
    expect(cores.rows[1]?.values).toEqual({ core0: 60, core1: 60 });
  });

  it('memory, memory percent and swap', () => {
    expect(memorySeries(points).rows.map((r) => r.values)).toEqual([{ used: 400, cached: 300 }]);
    expect(memorySeries(points).unit).toBe('bytes');
    expect(memoryPctSeries(points).rows[0]?.values.pct).toBe(40);
    expect(swapSeries(points).rows[0]?.values).toEqual({ swap: 10 });
  });

  it('disk I/O', () => {
    const io = diskIoSeries(points);
    expect(io.unit).toBe('bytesPerSec');
    expect(io.rows.map((r) => r.values)).toEqual([{ read: 1_000, write: 2_000 }]);
  });

  it('network: one chart per interface and a total', () => {
    const net = networkSeries(points);
    expect(net.map((n) => n.name)).toEqual(['eth0', 'wg0']);
    expect(net[0]?.rows.map((r) => [r.ts, r.values])).toEqual([
      [T0, { rx: 100, tx: 50 }],
      [T0 + 1_000, { rx: 200, tx: 10 }],
    ]);
    expect(net[1]?.rows).toHaveLength(1);
    expect(networkTotalSeries(points).rows.map((r) => r.values.total)).toEqual([160, 210]);
  });

  it('GPU: per index, utilisation and memory percent, temperature', () => {
    const gpus = gpuSeries(points);
    expect(gpus.map((g) => g.index)).toEqual([0, 1]);
    expect(gpus[0]?.usage.rows.map((r) => r.values)).toEqual([{ util: 80, mem: 50 }, { util: 90 }]);
    expect(gpus[0]?.temperature.rows.map((r) => r.values)).toEqual([{ temp: 61 }]);
    expect(gpus[1]?.temperature.rows).toEqual([]);
  });

  it('containers: CPU and memory per container', () => {
    const c = containerSeries(points);
    expect(c.cpu.series.map((x) => x.key)).toEqual(['web', 'db']);
    expect(c.cpu.rows.map((r) => r.values)).toEqual([{ web: 12, db: 3 }]);
    expect(c.memory.rows.map((r) => r.values)).toEqual([{ web: 5_000 }]);
  });
});

describe('breakGaps', () => {
  const r = (ts: number): ChartRow => ({ ts, date: new Date(ts), values: { v: 1 } });

  it('leaves rows without long holes alone', () => {
    const rows = [r(0), r(1_000), r(2_000), r(20_000)];
    expect(breakGaps(rows)).toBe(rows);
  });

  it('breaks the line inside a hole longer than 30 s and five spacings', () => {
    const rows = [r(0), r(1_000), r(2_000), r(3_000), r(60_000), r(61_000)];
    const out = breakGaps(rows);
    expect(out.map((x) => [x.ts, Object.keys(x.values).length])).toEqual([
      [0, 1],
      [1_000, 1],
      [2_000, 1],
      [3_000, 1],
      [3_001, 0],
      [60_000, 1],
      [61_000, 1],
    ]);
  });

  it('does not break a slow but regular cadence', () => {
    const rows = [r(0), r(60_000), r(120_000), r(180_000)];
    expect(breakGaps(rows)).toBe(rows);
  });
});
