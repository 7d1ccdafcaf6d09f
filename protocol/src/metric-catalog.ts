import type { CustomMetric, Sample } from './ingest.ts';

/**
 * Every series Pulsewire can alert on or chart, addressed by a metric path plus labels. Host-level
 * metrics have no labels; per-disk, per-interface, per-GPU, per-container and per-sensor metrics carry
 * the one label that tells their series apart (`mount`, `iface`, `gpu`, `container`, `sensor`); custom
 * application metrics are `custom.<name>` with the labels the application sent.
 *
 * A series key is the path followed by its labels sorted by name, Prometheus style:
 * `disk.used_pct{mount="/"}`, `cpu.total`, `custom.queue_depth{queue="mail"}`.
 */

export const metricUnits = [
  'pct',
  'bytes',
  'bytes_per_s',
  'per_s',
  'count',
  'celsius',
  'watts',
  'ms',
  'number',
] as const;
export type MetricUnit = (typeof metricUnits)[number];

/** The label that splits a metric into one series per disk, interface, GPU, container or sensor. */
export const seriesDimensions = ['mount', 'iface', 'gpu', 'container', 'sensor'] as const;
export type SeriesDimension = (typeof seriesDimensions)[number];

export interface MetricDefinition {
  path: string;
  /** What a person reads in the rule editor. */
  title: string;
  unit: MetricUnit;
  dimension?: SeriesDimension;
}

function m(path: string, title: string, unit: MetricUnit, dimension?: SeriesDimension): MetricDefinition {
  return dimension ? { path, title, unit, dimension } : { path, title, unit };
}

/** The collected metrics, in the order the rule editor lists them. */
export const METRICS: readonly MetricDefinition[] = [
  m('cpu.total', 'CPU busy', 'pct'),
  m('cpu.user', 'CPU user', 'pct'),
  m('cpu.system', 'CPU system', 'pct'),
  m('cpu.iowait', 'CPU I/O wait', 'pct'),
  m('cpu.steal', 'CPU steal', 'pct'),
  m('load.1', 'Load average (1 min)', 'number'),
  m('load.5', 'Load average (5 min)', 'number'),
  m('load.15', 'Load average (15 min)', 'number'),
  m('memory.used_pct', 'Memory used', 'pct'),
  m('memory.used', 'Memory used (bytes)', 'bytes'),
  m('memory.available', 'Memory available', 'bytes'),
  m('swap.used_pct', 'Swap used', 'pct'),
  m('disk.used_pct', 'Disk used', 'pct', 'mount'),
  m('disk.used', 'Disk used (bytes)', 'bytes', 'mount'),
  m('disk.free', 'Disk free', 'bytes', 'mount'),
  m('disk_io.read', 'Disk reads', 'bytes_per_s'),
  m('disk_io.write', 'Disk writes', 'bytes_per_s'),
  m('disk_io.read_ops', 'Disk read operations', 'per_s'),
  m('disk_io.write_ops', 'Disk write operations', 'per_s'),
  m('net.rx', 'Network received', 'bytes_per_s', 'iface'),
  m('net.tx', 'Network sent', 'bytes_per_s', 'iface'),
  m('net.rx_errors', 'Receive errors (since boot)', 'count', 'iface'),
  m('net.tx_errors', 'Send errors (since boot)', 'count', 'iface'),
  m('gpu.util_pct', 'GPU utilisation', 'pct', 'gpu'),
  m('gpu.mem_used_pct', 'GPU memory used', 'pct', 'gpu'),
  m('gpu.temp', 'GPU temperature', 'celsius', 'gpu'),
  m('gpu.power', 'GPU power', 'watts', 'gpu'),
  m('container.cpu_pct', 'Container CPU (% of one core)', 'pct', 'container'),
  m('container.mem_used', 'Container memory', 'bytes', 'container'),
  m('container.mem_pct', 'Container memory of its limit', 'pct', 'container'),
  m('container.running', 'Container running (1) or not (0)', 'number', 'container'),
  m('processes.total', 'Processes', 'count'),
  m('processes.blocked', 'Processes blocked on I/O', 'count'),
  m('temp', 'Temperature', 'celsius', 'sensor'),
  m('agent.cpu_pct', 'Agent CPU (% of one core)', 'pct'),
  m('agent.rss', 'Agent memory', 'bytes'),
  m('agent.spool_depth', 'Agent batches waiting on disk', 'count'),
];

const byPath = new Map(METRICS.map((d) => [d.path, d]));

/** Custom application metrics: `custom.<name>`, and for histograms `custom.<name>.<stat>`. */
export const CUSTOM_PREFIX = 'custom.';
export const histogramStats = ['count', 'avg', 'min', 'max', 'p50', 'p90', 'p99'] as const;
const customPathPattern = /^custom\.[A-Za-z_][A-Za-z0-9_.:-]{0,199}$/;

/** The definition of a collected metric path, a synthetic one for a custom metric, or null when unknown. */
export function metricDefinition(path: string): MetricDefinition | null {
  const known = byPath.get(path);
  if (known) return known;
  if (customPathPattern.test(path)) return { path, title: path.slice(CUSTOM_PREFIX.length), unit: 'number' };
  return null;
}

export type SeriesLabels = Record<string, string>;

/** One value of one series at one time. */
export interface SeriesPoint {
  metric: string;
  labels: SeriesLabels;
  value: number;
}

/** `path{a="1",b="2"}` with labels sorted by name; the bare path when there are none. */
export function seriesKey(metric: string, labels: SeriesLabels): string {
  const names = Object.keys(labels).sort();
  if (names.length === 0) return metric;
  return `${metric}{${names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(',')}}`;
}

function finite(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value);
}

/**
 * Called once per value of a sample: the metric path, the value, and its one label (name and value) for the
 * series of a list section (a disk, an interface, …), else undefined.
 */
export type SamplePointVisitor = (metric: string, value: number, label?: string, labelValue?: string) => void;

/**
 * Visits the values of one host sample, as `samplePoints` gives them, without building a point or a labels
 * object per value: what a reader of many samples (the history of the open hour) uses. `samplePoints` is this,
 * collected.
 */
export function visitSamplePoints(sample: Omit<Sample, 'ts'>, visit: SamplePointVisitor): void {
  // Plain loops and one closure per call: a history read visits every sample of the open hour.
  const add = (metric: string, value: number | undefined, label?: string, labelValue?: string) => {
    if (finite(value)) visit(metric, value, label, labelValue);
  };
  const { cpu, load, memory, disks, diskIo, net, gpus, containers, processes, temps, agent } = sample;
  if (cpu) {
    add('cpu.total', cpu.total);
    add('cpu.user', cpu.user);
    add('cpu.system', cpu.system);
    add('cpu.iowait', cpu.iowait);
    add('cpu.steal', cpu.steal);
  }
  if (load) {
    add('load.1', load[1]);
    add('load.5', load[5]);
    add('load.15', load[15]);
  }
  if (memory) {
    if (memory.total > 0) add('memory.used_pct', ((memory.total - memory.available) / memory.total) * 100);
    add('memory.used', memory.used);
    add('memory.available', memory.available);
    if (memory.swapTotal > 0) add('swap.used_pct', (memory.swapUsed / memory.swapTotal) * 100);
  }
  for (let i = 0; disks && i < disks.length; i++) {
    const disk = disks[i] as NonNullable<typeof disks>[number];
    add('disk.used_pct', disk.usedPct, 'mount', disk.mount);
    add('disk.used', disk.used, 'mount', disk.mount);
    add('disk.free', Math.max(0, disk.size - disk.used), 'mount', disk.mount);
  }
  if (diskIo) {
    add('disk_io.read', diskIo.readBytesPerSec);
    add('disk_io.write', diskIo.writeBytesPerSec);
    add('disk_io.read_ops', diskIo.readOpsPerSec);
    add('disk_io.write_ops', diskIo.writeOpsPerSec);
  }
  for (let i = 0; net && i < net.length; i++) {
    const n = net[i] as NonNullable<typeof net>[number];
    add('net.rx', n.rxBytesPerSec, 'iface', n.iface);
    add('net.tx', n.txBytesPerSec, 'iface', n.iface);
    add('net.rx_errors', n.rxErrors, 'iface', n.iface);
    add('net.tx_errors', n.txErrors, 'iface', n.iface);
  }
  for (let i = 0; gpus && i < gpus.length; i++) {
    const g = gpus[i] as NonNullable<typeof gpus>[number];
    const gpu = String(g.index);
    add('gpu.util_pct', g.utilPct, 'gpu', gpu);
    if (finite(g.memUsed) && finite(g.memTotal) && g.memTotal > 0) {
      add('gpu.mem_used_pct', (g.memUsed / g.memTotal) * 100, 'gpu', gpu);
    }
    add('gpu.temp', g.tempC, 'gpu', gpu);
    add('gpu.power', g.powerW, 'gpu', gpu);
  }
  for (let i = 0; containers && i < containers.length; i++) {
    const c = containers[i] as NonNullable<typeof containers>[number];
    add('container.cpu_pct', c.cpuPct, 'container', c.name);
    add('container.mem_used', c.memUsed, 'container', c.name);
    if (finite(c.memUsed) && finite(c.memLimit) && c.memLimit > 0) {
      add('container.mem_pct', (c.memUsed / c.memLimit) * 100, 'container', c.name);
    }
    add('container.running', c.state === 'running' ? 1 : 0, 'container', c.name);
  }
  if (processes) {
    add('processes.total', processes.total);
    add('processes.blocked', processes.blocked);
  }
  for (let i = 0; temps && i < temps.length; i++) {
    const t = temps[i] as NonNullable<typeof temps>[number];
    add('temp', t.c, 'sensor', t.label);
  }
  if (agent) {
    add('agent.cpu_pct', agent.cpuPct);
    add('agent.rss', agent.rssBytes);
    add('agent.spool_depth', agent.spoolDepth);
  }
}

/** Flattens one host sample into its series (about a hundred values for a typical host). */
export function samplePoints(sample: Sample): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  visitSamplePoints(sample, (metric, value, label, labelValue) => {
    points.push({ metric, labels: label === undefined ? {} : { [label]: labelValue as string }, value });
  });
  return points;
}

/** Custom metrics as series: gauges, counters and sets as `custom.<name>`, histograms one series per stat. */
export function customPoints(metric: CustomMetric): SeriesPoint[] {
  const labels = metric.labels ?? {};
  const path = `${CUSTOM_PREFIX}${metric.name}`;
  if (metric.kind !== 'histogram') return finite(metric.value) ? [{ metric: path, labels, value: metric.value }] : [];
  const h = metric.hist;
  const stats: Record<(typeof histogramStats)[number], number> = {
    count: h.count,
    avg: h.sum / h.count,
    min: h.min,
    max: h.max,
    p50: h.p50,
    p90: h.p90,
    p99: h.p99,
  };
  return histogramStats
    .filter((s) => finite(stats[s]))
    .map((s) => ({ metric: `${path}.${s}`, labels, value: stats[s] }));
}
