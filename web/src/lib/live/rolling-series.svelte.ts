import type { LiveSample } from '@pulsewire/protocol';

/**
 * A rolling window of one host's {@link LiveSample}s (the last N minutes), fed by the live stream
 * and by gap fills from the history API, and the chart-ready series derived from it.
 *
 * Points stay sorted by `ts` and unique per `ts` (a later copy of the same instant replaces the
 * earlier one); points older than the window are trimmed on every change and on {@link tick}.
 */

export const DEFAULT_WINDOW_MS = 5 * 60_000;

/** One x position of a chart: the instant and the value of each series key there. */
export interface ChartRow {
  /** Epoch milliseconds. */
  ts: number;
  date: Date;
  values: Record<string, number>;
}

/** How values of a chart are read: percent, bytes, bytes per second, a count per second, °C, watts, ms or a plain number. */
export type ValueUnit = 'percent' | 'bytes' | 'bytesPerSec' | 'perSec' | 'celsius' | 'watts' | 'ms' | 'number';

export interface SeriesDef {
  key: string;
  label: string;
  /** A CSS colour, e.g. `var(--color-chart-2)`; charts pick one when absent. */
  color?: string;
}

export interface ChartSeries {
  rows: ChartRow[];
  series: SeriesDef[];
  unit: ValueUnit;
}

export interface NamedChartSeries extends ChartSeries {
  /** What the chart is about: an interface, a GPU, … */
  name: string;
}

/** Merges `incoming` into the sorted, ts-unique `points`; returns a new array (or `points` when unchanged). */
export function mergeSamples(points: readonly LiveSample[], incoming: readonly LiveSample[]): LiveSample[] {
  if (incoming.length === 0) return points as LiveSample[];
  const sortedIncoming = isSorted(incoming) ? incoming : [...incoming].sort((a, b) => a.ts - b.ts);
  const last = points.at(-1);
  const first = sortedIncoming[0];
  // The usual live case: every new point is newer than what we hold.
  if (first && (!last || first.ts > last.ts) && isStrictlySorted(sortedIncoming)) {
    return [...points, ...sortedIncoming];
  }
  const byTs = new Map<number, LiveSample>();
  for (const p of points) byTs.set(p.ts, p);
  for (const p of sortedIncoming) byTs.set(p.ts, p);
  return [...byTs.values()].sort((a, b) => a.ts - b.ts);
}

/** Points at or after `since`; `points` itself when nothing is older. */
export function trimBefore(points: readonly LiveSample[], since: number): LiveSample[] {
  let i = 0;
  while (i < points.length && (points[i] as LiveSample).ts < since) i++;
  return i === 0 ? (points as LiveSample[]) : points.slice(i);
}

const row = (ts: number, values: Record<string, number>): ChartRow => ({ ts, date: new Date(ts), values });

/** A hole shorter than this is drawn through; longer ones (and > 5 × the usual spacing) break the line. */
export const MIN_GAP_BREAK_MS = 30_000;

/**
 * Inserts an empty row (no values, so lines and areas stop) inside every hole longer than both
 * {@link MIN_GAP_BREAK_MS} and five times the median spacing: a host that was away shows a gap, not
 * a straight line across the time it sent nothing. Returns `rows` itself when there is no such hole.
 */
export function breakGaps(rows: readonly ChartRow[]): ChartRow[] {
  if (rows.length < 3) return rows as ChartRow[];
  const spacing = rows
    .slice(1)
    .map((r, i) => r.ts - (rows[i] as ChartRow).ts)
    .sort((a, b) => a - b);
  const median = spacing[Math.floor(spacing.length / 2)] ?? 0;
  const limit = Math.max(MIN_GAP_BREAK_MS, median * 5);
  let out: ChartRow[] | null = null;
  for (let i = 1; i < rows.length; i++) {
    const prev = rows[i - 1] as ChartRow;
    const cur = rows[i] as ChartRow;
    if (cur.ts - prev.ts > limit) {
      out ??= rows.slice(0, i);
      out.push(row(prev.ts + 1, {}));
    }
    out?.push(cur);
  }
  return out ?? (rows as ChartRow[]);
}

/** CPU: user, system, iowait (stackable) and total, percent. */
export function cpuSeries(points: readonly LiveSample[]): ChartSeries {
  const rows: ChartRow[] = [];
  let steal = false;
  for (const p of points) {
    if (!p.cpu) continue;
    const { user, system, iowait, total } = p.cpu;
    if (p.cpu.steal > 0) steal = true;
    rows.push(row(p.ts, { user, system, iowait, steal: p.cpu.steal, total }));
  }
  const series: SeriesDef[] = [
    { key: 'user', label: 'User', color: 'var(--color-chart-1)' },
    { key: 'system', label: 'System', color: 'var(--color-chart-2)' },
    { key: 'iowait', label: 'I/O wait', color: 'var(--color-warning)' },
  ];
  if (steal) series.push({ key: 'steal', label: 'Steal', color: 'var(--color-danger)' });
  return { rows, series, unit: 'percent' };
}

/** CPU total alone, percent (for sparklines and single-line charts). */
export function cpuTotalSeries(points: readonly LiveSample[]): ChartSeries {
  const rows = points.filter((p) => p.cpu).map((p) => row(p.ts, { total: p.cpu?.total ?? 0 }));
  return { rows, series: [{ key: 'total', label: 'CPU', color: 'var(--color-chart-1)' }], unit: 'percent' };
}

/** One series per core (`core0`, `core1`, …), percent. */
export function perCoreSeries(points: readonly LiveSample[]): ChartSeries {
  let cores = 0;
  const rows: ChartRow[] = [];
  for (const p of points) {
    if (!p.cpu) continue;
    const values: Record<string, number> = {};
    p.cpu.perCore.forEach((v, i) => {
      values[`core${i}`] = v;
    });
    cores = Math.max(cores, p.cpu.perCore.length);
    rows.push(row(p.ts, values));
  }
  const series = Array.from({ length: cores }, (_, i) => ({ key: `core${i}`, label: `Core ${i}` }));
  return { rows, series, unit: 'percent' };
}

/** Memory used and cached, bytes. */
export function memorySeries(points: readonly LiveSample[]): ChartSeries {
  const rows = points
    .filter((p) => p.mem)
    .map((p) => row(p.ts, { used: p.mem?.used ?? 0, cached: p.mem?.cached ?? 0 }));
  return {
    rows,
    series: [
      { key: 'used', label: 'Used', color: 'var(--color-chart-1)' },
      { key: 'cached', label: 'Cached', color: 'var(--color-chart-2)' },
    ],
    unit: 'bytes',
  };
}

/** Memory used as a percent of total (for sparklines). */
export function memoryPctSeries(points: readonly LiveSample[]): ChartSeries {
  const rows = points
    .filter((p) => p.mem && p.mem.total > 0)
    .map((p) => row(p.ts, { pct: ((p.mem?.used ?? 0) / (p.mem?.total ?? 1)) * 100 }));
  return { rows, series: [{ key: 'pct', label: 'Memory', color: 'var(--color-chart-2)' }], unit: 'percent' };
}

/** Swap used, bytes (empty when the host has no swap). */
export function swapSeries(points: readonly LiveSample[]): ChartSeries {
  const rows = points.filter((p) => p.mem && p.mem.swapTotal > 0).map((p) => row(p.ts, { swap: p.mem?.swapUsed ?? 0 }));
  return { rows, series: [{ key: 'swap', label: 'Swap used', color: 'var(--color-chart-3)' }], unit: 'bytes' };
}

/** Disk read and write, bytes per second. */
export function diskIoSeries(points: readonly LiveSample[]): ChartSeries {
  const rows = points
    .filter((p) => p.diskIo)
    .map((p) => row(p.ts, { read: p.diskIo?.read ?? 0, write: p.diskIo?.write ?? 0 }));
  return {
    rows,
    series: [
      { key: 'read', label: 'Read', color: 'var(--color-chart-2)' },
      { key: 'write', label: 'Write', color: 'var(--color-chart-3)' },
    ],
    unit: 'bytesPerSec',
  };
}

/** Received and sent, bytes per second, one chart per interface (in order of first appearance). */
export function networkSeries(points: readonly LiveSample[]): NamedChartSeries[] {
  const byIface = new Map<string, ChartRow[]>();
  for (const p of points) {
    for (const n of p.net ?? []) {
      let rows = byIface.get(n.iface);
      if (!rows) {
        rows = [];
        byIface.set(n.iface, rows);
      }
      rows.push(row(p.ts, { rx: n.rx, tx: n.tx }));
    }
  }
  return [...byIface].map(([name, rows]) => ({
    name,
    rows,
    series: [
      { key: 'rx', label: 'Received', color: 'var(--color-chart-2)' },
      { key: 'tx', label: 'Sent', color: 'var(--color-chart-1)' },
    ],
    unit: 'bytesPerSec',
  }));
}

/** Every interface's rx + tx summed, bytes per second (for sparklines). */
export function networkTotalSeries(points: readonly LiveSample[]): ChartSeries {
  const rows = points
    .filter((p) => p.net)
    .map((p) => row(p.ts, { total: (p.net ?? []).reduce((sum, n) => sum + n.rx + n.tx, 0) }));
  return { rows, series: [{ key: 'total', label: 'Network', color: 'var(--color-chart-3)' }], unit: 'bytesPerSec' };
}

export interface GpuCharts {
  name: string;
  index: number;
  /** Utilisation and memory used, percent. */
  usage: ChartSeries;
  /** Temperature, °C (no rows when the GPU does not report it). */
  temperature: ChartSeries;
}

/** Per GPU (by index): utilisation and memory percent, and temperature. */
export function gpuSeries(points: readonly LiveSample[]): GpuCharts[] {
  const byIndex = new Map<number, { name: string; usage: ChartRow[]; temp: ChartRow[] }>();
  for (const p of points) {
    for (const g of p.gpus ?? []) {
      let entry = byIndex.get(g.index);
      if (!entry) {
        entry = { name: g.name, usage: [], temp: [] };
        byIndex.set(g.index, entry);
      }
      const values: Record<string, number> = {};
      if (g.util !== undefined) values.util = g.util;
      if (g.memUsed !== undefined && g.memTotal) values.mem = (g.memUsed / g.memTotal) * 100;
      if (Object.keys(values).length > 0) entry.usage.push(row(p.ts, values));
      if (g.tempC !== undefined) entry.temp.push(row(p.ts, { temp: g.tempC }));
    }
  }
  return [...byIndex]
    .sort(([a], [b]) => a - b)
    .map(([index, e]) => ({
      index,
      name: e.name,
      usage: {
        rows: e.usage,
        series: [
          { key: 'util', label: 'Utilisation', color: 'var(--color-chart-1)' },
          { key: 'mem', label: 'Memory', color: 'var(--color-chart-3)' },
        ],
        unit: 'percent',
      },
      temperature: {
        rows: e.temp,
        series: [{ key: 'temp', label: 'Temperature', color: 'var(--color-danger)' }],
        unit: 'celsius',
      },
    }));
}

export interface ContainerCharts {
  /** CPU percent per container (key = container name). */
  cpu: ChartSeries;
  /** Memory used per container, bytes. */
  memory: ChartSeries;
}

/** One series per container (running or not, in order of first appearance), CPU percent and memory bytes. */
export function containerSeries(points: readonly LiveSample[]): ContainerCharts {
  const names: string[] = [];
  const cpuRows: ChartRow[] = [];
  const memRows: ChartRow[] = [];
  for (const p of points) {
    if (!p.containers) continue;
    const cpu: Record<string, number> = {};
    const mem: Record<string, number> = {};
    for (const c of p.containers) {
      if (!names.includes(c.name)) names.push(c.name);
      if (c.cpuPct !== undefined) cpu[c.name] = c.cpuPct;
      if (c.memUsed !== undefined) mem[c.name] = c.memUsed;
    }
    cpuRows.push(row(p.ts, cpu));
    memRows.push(row(p.ts, mem));
  }
  const series = names.map((name) => ({ key: name, label: name }));
  return {
    cpu: { rows: cpuRows, series, unit: 'percent' },
    memory: { rows: memRows, series, unit: 'bytes' },
  };
}

export interface RollingSeriesOptions {
  windowMs?: number;
  /** Epoch milliseconds; default `Date.now`. */
  now?: () => number;
}

/** One host's rolling window; every derived series is reactive. */
export class RollingSeries {
  /** Sorted by `ts`, unique per `ts`, none older than the window. */
  points = $state.raw<LiveSample[]>([]);
  /** The window's right edge (epoch ms), advanced by {@link tick} and by new points. */
  now = $state(0);
  readonly windowMs: number;
  readonly #clock: () => number;

  constructor(options: RollingSeriesOptions = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    this.#clock = options.now ?? Date.now;
    this.now = this.#clock();
  }

  /** The window's left edge (epoch ms). */
  get from(): number {
    return this.now - this.windowMs;
  }

  get latest(): LiveSample | undefined {
    return this.points.at(-1);
  }

  /** Adds live samples or gap-fill points (any order, duplicates allowed). */
  add(samples: readonly LiveSample[]): void {
    this.now = Math.max(this.#clock(), this.now);
    const merged = mergeSamples(this.points, samples);
    const trimmed = trimBefore(merged, this.from);
    if (trimmed !== this.points) this.points = trimmed;
  }

  /** Moves the window to the current time and drops what fell out of it. */
  tick(): void {
    this.now = Math.max(this.#clock(), this.now);
    const trimmed = trimBefore(this.points, this.from);
    if (trimmed !== this.points) this.points = trimmed;
  }

  clear(): void {
    this.points = [];
  }

  readonly cpu = $derived(cpuSeries(this.points));
  readonly cpuTotal = $derived(cpuTotalSeries(this.points));
  readonly perCore = $derived(perCoreSeries(this.points));
  readonly memory = $derived(memorySeries(this.points));
  readonly memoryPct = $derived(memoryPctSeries(this.points));
  readonly swap = $derived(swapSeries(this.points));
  readonly diskIo = $derived(diskIoSeries(this.points));
  readonly network = $derived(networkSeries(this.points));
  readonly networkTotal = $derived(networkTotalSeries(this.points));
  readonly gpus = $derived(gpuSeries(this.points));
  readonly containers = $derived(containerSeries(this.points));
}

function isSorted(points: readonly LiveSample[]): boolean {
  for (let i = 1; i < points.length; i++)
    if ((points[i] as LiveSample).ts < (points[i - 1] as LiveSample).ts) return false;
  return true;
}

function isStrictlySorted(points: readonly LiveSample[]): boolean {
  for (let i = 1; i < points.length; i++)
    if ((points[i] as LiveSample).ts <= (points[i - 1] as LiveSample).ts) return false;
  return true;
}
