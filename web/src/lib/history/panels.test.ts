import type { HistorySeries, HistorySeriesData, MetricUnit } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { chartOf, filledPoints, isolatedRows, seriesLabel } from './charts.ts';
import {
  chartExportSeries,
  containersPanel,
  corePanel,
  customMetricName,
  customPanel,
  disksPanel,
  gpusPanel,
  hostPanels,
  networkPanel,
} from './panels.ts';

const T0 = Date.UTC(2025, 0, 1);
const STEP = 3_600_000;

function series(
  metric: string,
  labels: Record<string, string>,
  avg: (number | null)[],
  unit: MetricUnit = 'pct',
): HistorySeriesData {
  const names = Object.keys(labels).sort();
  const key = names.length ? `${metric}{${names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(',')}}` : metric;
  return {
    key,
    metric,
    labels,
    unit,
    min: avg.map((v) => (v === null ? null : v - 1)),
    avg,
    max: avg.map((v) => (v === null ? null : v + 2)),
  };
}

function answer(list: HistorySeriesData[], buckets = 3): HistorySeries {
  return {
    hostId: '00000000-0000-4000-8000-000000000001',
    from: new Date(T0).toISOString(),
    to: new Date(T0 + buckets * STEP).toISOString(),
    stepMs: STEP,
    tier: '1h',
    timestamps: Array.from({ length: buckets }, (_, i) => T0 + i * STEP),
    retention: { oldest: new Date(T0 - 365 * 24 * STEP).toISOString(), clipped: false },
    incomplete: false,
    series: list,
  };
}

describe('history chart models', () => {
  it('keeps min/avg/max per bucket and leaves empty buckets out of their row (a gap, never zero)', () => {
    const cpu = series('cpu.total', {}, [10, null, 30]);
    const chart = chartOf(answer([cpu]), { id: 'cpu', title: 'CPU', yMax: 100 }, [{ data: cpu }]);
    expect(chart.rows.map((r) => r.ts)).toEqual([T0, T0 + STEP, T0 + 2 * STEP]);
    expect(chart.rows[0]?.values['cpu.total']).toEqual({ min: 9, avg: 10, max: 12 });
    expect(chart.rows[1]?.values).toEqual({});
    expect(chart.rows[2]?.values['cpu.total']).toEqual({ min: 29, avg: 30, max: 32 });
    expect(chart.rows[0]?.date.getTime()).toBe(T0);
    expect(chart.points).toBe(2);
    expect(chart.unit).toBe('percent');
    expect(chart.stepMs).toBe(STEP);
    expect(chart.yMax).toBe(100);
    expect(chart.series).toEqual([{ key: 'cpu.total', label: 'CPU busy', color: 'var(--color-chart-1)', band: true }]);
  });

  it('reads a bucket without min/max as its avg, and counts filled rows', () => {
    const s = { ...series('load.1', {}, [1.5, 2], 'number'), min: [null, null], max: [null, 3] };
    const chart = chartOf(answer([s], 2), { id: 'load', title: 'Load' }, [{ data: s }]);
    expect(chart.rows[0]?.values['load.1']).toEqual({ min: 1.5, avg: 1.5, max: 1.5 });
    expect(chart.rows[1]?.values['load.1']).toEqual({ min: 2, avg: 2, max: 3 });
    expect(filledPoints(chart.rows)).toBe(2);
  });

  it('bands every series of a chart with a few, none of a crowded one unless asked', () => {
    const mounts = ['/', '/var', '/home', '/srv'].map((mount) => series('disk.used_pct', { mount }, [1, 2, 3]));
    const few = chartOf(
      answer(mounts),
      { id: 'a', title: 'a' },
      mounts.slice(0, 3).map((data) => ({ data })),
    );
    expect(few.series.map((s) => s.band)).toEqual([true, true, true]);
    const many = chartOf(
      answer(mounts),
      { id: 'b', title: 'b' },
      mounts.map((data, i) => ({ data, band: i === 0 ? true : undefined })),
    );
    expect(many.series.map((s) => s.band)).toEqual([true, false, false, false]);
  });

  it('names series by their label values, else by their metric', () => {
    expect(seriesLabel({ metric: 'disk.used_pct', labels: { mount: '/var' } })).toBe('/var');
    expect(seriesLabel({ metric: 'custom.jobs', labels: { queue: 'mail', zone: 'b' } })).toBe('queue=mail, zone=b');
    expect(seriesLabel({ metric: 'memory.used_pct', labels: {} })).toBe('Memory used');
    expect(seriesLabel({ metric: 'something.else', labels: {} })).toBe('something.else');
  });
});

describe('host history panels', () => {
  it('asks for at most the API’s series per request and names each panel once', () => {
    for (const panel of [...hostPanels, customPanel('queue_depth')]) {
      expect(panel.series.length, panel.id).toBeLessThanOrEqual(20);
      expect(new Set(panel.series).size).toBe(panel.series.length);
    }
    expect(new Set(hostPanels.map((p) => p.id)).size).toBe(hostPanels.length);
  });

  it('draws CPU, memory, load and disk I/O from one answer, empty where the range holds nothing', () => {
    const charts = corePanel.charts(
      answer([
        series('cpu.total', {}, [10, 20, 30]),
        series('cpu.user', {}, [5, 10, 15]),
        series('memory.used_pct', {}, [50, null, 52]),
        series('disk_io.read', {}, [1e6, 2e6, 3e6], 'bytes_per_s'),
      ]),
    );
    expect(charts.map((c) => c.id)).toEqual(['cpu', 'memory', 'load', 'disk-io']);
    const [cpu, memory, load, io] = charts;
    expect(cpu?.series.map((s) => [s.label, s.band])).toEqual([
      ['Busy', true],
      ['User', false],
    ]);
    expect(memory?.points).toBe(2);
    expect(load?.series).toEqual([]);
    expect(load?.points).toBe(0);
    expect(io?.unit).toBe('bytesPerSec');
  });

  it('draws one network chart per interface and one GPU chart per GPU, received before sent', () => {
    const net = networkPanel.charts(
      answer([
        series('net.tx', { iface: 'eth1' }, [1, 1, 1], 'bytes_per_s'),
        series('net.rx', { iface: 'eth0' }, [2, 2, 2], 'bytes_per_s'),
        series('net.tx', { iface: 'eth0' }, [3, 3, 3], 'bytes_per_s'),
      ]),
    );
    expect(net.map((c) => [c.id, c.title, c.series.map((s) => s.label)])).toEqual([
      ['net:eth0', 'Network · eth0', ['Received', 'Sent']],
      ['net:eth1', 'Network · eth1', ['Sent']],
    ]);
    const gpus = gpusPanel.charts(
      answer([series('gpu.util_pct', { gpu: '10' }, [1, 2, 3]), series('gpu.util_pct', { gpu: '2' }, [1, 2, 3])]),
    );
    expect(gpus.map((c) => c.title)).toEqual(['GPU 2', 'GPU 10']);
    expect(networkPanel.charts(answer([]))).toEqual([]);
  });

  it('draws filesystems and containers only when the host has them', () => {
    expect(disksPanel.charts(answer([]))).toEqual([]);
    expect(containersPanel.charts(answer([]))).toEqual([]);
    const disks = disksPanel.charts(
      answer([
        series('disk.used_pct', { mount: '/var' }, [1, 2, 3]),
        series('disk.used_pct', { mount: '/' }, [4, 5, 6]),
      ]),
    );
    expect(disks[0]?.series.map((s) => s.label)).toEqual(['/', '/var']);
    const containers = containersPanel.charts(
      answer([series('container.mem_used', { container: 'web' }, [1, 2, 3], 'bytes')]),
    );
    expect(containers.map((c) => [c.id, c.unit])).toEqual([['containers-memory', 'bytes']]);
  });

  it('charts a custom metric from its bare name, gauge or histogram, by label set', () => {
    const panel = customPanel('latency');
    expect(panel.series).toContain('custom.latency');
    expect(panel.series).toContain('custom.latency.p99');
    expect(panel.series).not.toContain('custom.latency.count');
    const [chart] = panel.charts(
      answer([
        series('custom.latency.p99', { route: '/api' }, [120, 130, 140], 'number'),
        series('custom.latency.p50', { route: '/api' }, [20, 30, 40], 'number'),
        series('custom.latency_other', {}, [1, 1, 1], 'number'),
      ]),
    );
    expect(chart?.title).toBe('Custom · latency');
    // The label set both share is left off the legend.
    expect(chart?.series.map((s) => s.label)).toEqual(['p50', 'p99']);
    const [byRoute] = panel.charts(
      answer([
        series('custom.latency.p99', { route: '/api', zone: 'a' }, [1, 1, 1], 'number'),
        series('custom.latency.p99', { route: '/web', zone: 'a' }, [1, 1, 1], 'number'),
      ]),
    );
    expect(byRoute?.series.map((s) => s.label)).toEqual(['p99 · route=/api', 'p99 · route=/web']);
    const [single] = panel.charts(answer([series('custom.latency', { route: '/api' }, [1, 1, 1], 'number')]));
    expect(single?.series.map((s) => s.label)).toEqual(['route=/api']);
    // A metric with no data still gets its chart, which says so.
    expect(customPanel('nothing').charts(answer([]))[0]?.points).toBe(0);
  });

  it('accepts custom metric names as typed and refuses what is not a name', () => {
    expect(customMetricName(' queue_depth ')).toBe('queue_depth');
    expect(customMetricName('custom.latency.p99')).toBe('latency.p99');
    expect(customMetricName('')).toBeNull();
    expect(customMetricName('9lives')).toBeNull();
    expect(customMetricName('a b')).toBeNull();
    expect(customMetricName('x{y="1"}')).toBeNull();
  });

  it('exports a chart’s own series, or their metric paths past the API’s cap', () => {
    const few = chartExportSeries({ series: [{ key: 'net.rx{iface="eth0"}', label: '', band: false }] });
    expect(few).toEqual(['net.rx{iface="eth0"}']);
    const many = chartExportSeries({
      series: Array.from({ length: 25 }, (_, i) => ({
        key: `container.cpu_pct{container="c${i}"}`,
        label: '',
        band: false,
      })),
    });
    expect(many).toEqual(['container.cpu_pct']);
  });
});

describe('lone buckets', () => {
  it('are the values with no value on either side', () => {
    const s = series('cpu.total', {}, [1, null, 3, 4, null, 6]);
    const chart = chartOf(answer([s], 6), { id: 'cpu', title: 'CPU' }, [{ data: s }]);
    expect(isolatedRows(chart.rows, 'cpu.total').map((r) => r.values['cpu.total']?.avg)).toEqual([1, 6]);
    expect(isolatedRows(chart.rows, 'other')).toEqual([]);
  });
});
