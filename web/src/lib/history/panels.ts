import {
  CUSTOM_PREFIX,
  type HistorySeries,
  type HistorySeriesData,
  histogramStats,
  MAX_HISTORY_SERIES,
} from '@pulsewire/protocol';
import { type ChartPart, chartOf, type HistoryChartModel } from './charts.ts';

/**
 * What the host page charts over a history range. A panel is one request to `GET /hosts/:id/series` (its
 * series names) and the charts drawn from the answer: host-wide figures in one request, then one request
 * each for filesystems, interfaces, GPUs, containers and every custom metric asked for, so a host with forty
 * containers cannot push its CPU chart past the API's series cap.
 */
export interface HistoryPanel {
  id: string;
  series: readonly string[];
  /** Charts from the answer; a panel whose series the host does not have may draw none. */
  charts(answer: HistorySeries): HistoryChartModel[];
}

const byMetric = (answer: HistorySeries, metric: string) => answer.series.filter((s) => s.metric === metric);
const one = (answer: HistorySeries, metric: string) => answer.series.find((s) => s.key === metric);

/** Parts of the named host-wide series the answer holds, in the order given. */
function parts(answer: HistorySeries, named: readonly [metric: string, label: string, color?: string][]): ChartPart[] {
  const found: ChartPart[] = [];
  for (const [metric, label, color] of named) {
    const data = one(answer, metric);
    if (data) found.push({ data, label, ...(color ? { color } : {}) });
  }
  return found;
}

/** Splits series by the value of one label (the interface, the GPU), in label order. */
function groupBy(series: readonly HistorySeriesData[], label: string): [string, HistorySeriesData[]][] {
  const groups = new Map<string, HistorySeriesData[]>();
  for (const s of series) {
    const value = s.labels[label] ?? '';
    groups.set(value, [...(groups.get(value) ?? []), s]);
  }
  return [...groups].sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }));
}

const byLabel = (label: string) => (a: HistorySeriesData, b: HistorySeriesData) =>
  (a.labels[label] ?? '').localeCompare(b.labels[label] ?? '', undefined, { numeric: true });

/** CPU, memory, load and disk I/O: the charts every host has, drawn empty when the range holds nothing. */
export const corePanel: HistoryPanel = {
  id: 'core',
  series: [
    'cpu.total',
    'cpu.user',
    'cpu.system',
    'cpu.iowait',
    'memory.used_pct',
    'swap.used_pct',
    'load.1',
    'load.5',
    'load.15',
    'disk_io.read',
    'disk_io.write',
  ],
  charts: (answer) => {
    const cpu = parts(answer, [
      ['cpu.total', 'Busy', 'var(--color-chart-1)'],
      ['cpu.user', 'User', 'var(--color-chart-2)'],
      ['cpu.system', 'System', 'var(--color-chart-3)'],
      ['cpu.iowait', 'I/O wait', 'var(--color-warning)'],
    ]).map((p, i) => ({ ...p, band: i === 0 }));
    return [
      chartOf(answer, { id: 'cpu', title: 'CPU', unit: 'percent', yMax: 100 }, cpu),
      chartOf(
        answer,
        { id: 'memory', title: 'Memory', unit: 'percent', yMax: 100 },
        parts(answer, [
          ['memory.used_pct', 'Memory used'],
          ['swap.used_pct', 'Swap used'],
        ]),
      ),
      chartOf(
        answer,
        { id: 'load', title: 'Load average', unit: 'number' },
        parts(answer, [
          ['load.1', '1 min'],
          ['load.5', '5 min'],
          ['load.15', '15 min'],
        ]).map((p, i) => ({ ...p, band: i === 0 })),
      ),
      chartOf(
        answer,
        { id: 'disk-io', title: 'Disk I/O', unit: 'bytesPerSec' },
        parts(answer, [
          ['disk_io.read', 'Read'],
          ['disk_io.write', 'Write'],
        ]),
      ),
    ];
  },
};

export const disksPanel: HistoryPanel = {
  id: 'disks',
  series: ['disk.used_pct'],
  charts: (answer) => {
    const mounts = byMetric(answer, 'disk.used_pct').sort(byLabel('mount'));
    if (mounts.length === 0) return [];
    return [
      chartOf(
        answer,
        { id: 'disks', title: 'Filesystems used', unit: 'percent', yMax: 100 },
        mounts.map((data) => ({ data })),
      ),
    ];
  },
};

export const networkPanel: HistoryPanel = {
  id: 'network',
  series: ['net.rx', 'net.tx'],
  charts: (answer) =>
    groupBy(
      answer.series.filter((s) => s.metric === 'net.rx' || s.metric === 'net.tx'),
      'iface',
    ).map(([iface, series]) =>
      chartOf(
        answer,
        { id: `net:${iface}`, title: `Network · ${iface}`, unit: 'bytesPerSec' },
        [
          ['net.rx', 'Received'],
          ['net.tx', 'Sent'],
        ].flatMap(([metric, label]) => {
          const data = series.find((s) => s.metric === metric);
          return data ? [{ data, label: label as string }] : [];
        }),
      ),
    ),
};

export const gpusPanel: HistoryPanel = {
  id: 'gpus',
  series: ['gpu.util_pct', 'gpu.mem_used_pct'],
  charts: (answer) =>
    groupBy(
      answer.series.filter((s) => s.metric === 'gpu.util_pct' || s.metric === 'gpu.mem_used_pct'),
      'gpu',
    ).map(([gpu, series]) =>
      chartOf(
        answer,
        { id: `gpu:${gpu}`, title: `GPU ${gpu}`, unit: 'percent', yMax: 100 },
        [
          ['gpu.util_pct', 'Utilisation'],
          ['gpu.mem_used_pct', 'Memory used'],
        ].flatMap(([metric, label]) => {
          const data = series.find((s) => s.metric === metric);
          return data ? [{ data, label: label as string }] : [];
        }),
      ),
    ),
};

export const containersPanel: HistoryPanel = {
  id: 'containers',
  series: ['container.cpu_pct', 'container.mem_used'],
  charts: (answer) => {
    const cpu = byMetric(answer, 'container.cpu_pct').sort(byLabel('container'));
    const memory = byMetric(answer, 'container.mem_used').sort(byLabel('container'));
    const charts: HistoryChartModel[] = [];
    if (cpu.length > 0) {
      charts.push(
        chartOf(
          answer,
          { id: 'containers-cpu', title: 'Containers · CPU', unit: 'percent' },
          cpu.map((data) => ({ data })),
        ),
      );
    }
    if (memory.length > 0) {
      charts.push(
        chartOf(
          answer,
          { id: 'containers-memory', title: 'Containers · memory', unit: 'bytes' },
          memory.map((data) => ({ data })),
        ),
      );
    }
    return charts;
  },
};

/** The panels every host page asks for, in page order. */
export const hostPanels: readonly HistoryPanel[] = [corePanel, disksPanel, networkPanel, gpusPanel, containersPanel];

/** A custom metric name as typed (`queue_depth`, `custom.queue_depth`, `latency.p99`); null when not a name. */
export function customMetricName(input: string): string | null {
  const name = input.trim().replace(/^custom\./, '');
  return /^[A-Za-z_][A-Za-z0-9_.:-]{0,199}$/.test(name) ? name : null;
}

/** The histogram statistics charted for a custom histogram (its count is another unit, left out). */
const chartedStats = histogramStats.filter((s) => s !== 'count');

/**
 * One custom metric, every label set: `custom.<name>` for gauges, counters and sets, and for a histogram its
 * statistics (`custom.<name>.p99`, …), so either kind charts from the bare name.
 */
export function customPanel(name: string): HistoryPanel {
  const path = `${CUSTOM_PREFIX}${name}`;
  return {
    id: `custom:${name}`,
    series: [path, ...chartedStats.map((stat) => `${path}.${stat}`)],
    charts: (answer) => {
      const found = answer.series
        .filter((s) => s.metric === path || s.metric.startsWith(`${path}.`))
        .sort((a, b) => a.key.localeCompare(b.key));
      // Labels every series shares say nothing on the legend; they are left out (the export keeps them).
      const shared = (k: string, v: string) => found.length > 1 && found.every((s) => s.labels[k] === v);
      const label = (s: HistorySeriesData) => {
        const stat = s.metric === path ? '' : s.metric.slice(path.length + 1);
        const labels = Object.entries(s.labels)
          .filter(([k, v]) => !shared(k, v))
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => `${k}=${v}`)
          .join(', ');
        return [stat, labels].filter(Boolean).join(' · ') || name;
      };
      return [
        chartOf(
          answer,
          { id: `custom:${name}`, title: `Custom · ${name}` },
          found.map((data) => ({ data, label: label(data) })),
        ),
      ];
    },
  };
}

/** The series names a chart's own download asks for: its keys, or their metric paths past the API's cap. */
export function chartExportSeries(chart: Pick<HistoryChartModel, 'series'>): string[] {
  const keys = chart.series.map((s) => s.key);
  if (keys.length <= MAX_HISTORY_SERIES) return keys;
  return [...new Set(keys.map((key) => key.split('{')[0] as string))].slice(0, MAX_HISTORY_SERIES);
}
