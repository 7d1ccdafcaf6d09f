import type { CompareSeries, HistorySeriesData } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { compareChart, metricPathOf, parseHostIds } from './compare.ts';

const T0 = Date.UTC(2025, 0, 1);
const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';

const data = (key: string, labels: Record<string, string>, avg: (number | null)[]): HistorySeriesData => ({
  key,
  metric: metricPathOf(key),
  labels,
  unit: 'pct',
  min: avg,
  avg,
  max: avg,
});

function answer(hosts: CompareSeries['hosts']): CompareSeries {
  return {
    from: new Date(T0).toISOString(),
    to: new Date(T0 + 2 * 60_000).toISOString(),
    stepMs: 60_000,
    tier: '1m',
    timestamps: [T0, T0 + 60_000],
    retention: { oldest: new Date(T0 - 1e10).toISOString(), clipped: false },
    incomplete: false,
    hosts,
  };
}

describe('compare chart', () => {
  it('draws a line per host, named by the host, each host’s gaps its own', () => {
    const chart = compareChart(
      answer([
        { hostId: A, name: 'web-1', series: [data('cpu.total', {}, [10, null])] },
        { hostId: B, name: 'db-1', series: [data('cpu.total', {}, [30, 40])] },
      ]),
      'cpu.total',
    );
    expect(chart.title).toBe('CPU busy');
    expect(chart.unit).toBe('percent');
    expect(chart.yMax).toBe(100);
    expect(chart.series.map((s) => s.label)).toEqual(['web-1', 'db-1']);
    expect(chart.rows[1]?.values).toEqual({ [`${B}|cpu.total`]: { min: 40, avg: 40, max: 40 } });
    expect(chart.points).toBe(2);
  });

  it('names host and label set when a host answers several series', () => {
    const chart = compareChart(
      answer([
        {
          hostId: A,
          name: 'web-1',
          series: [
            data('disk.used_pct{mount="/"}', { mount: '/' }, [1, 2]),
            data('disk.used_pct{mount="/var"}', { mount: '/var' }, [3, 4]),
          ],
        },
        { hostId: B, name: 'db-1', series: [] },
      ]),
      'disk.used_pct',
    );
    expect(chart.series.map((s) => s.label)).toEqual(['web-1 · /', 'web-1 · /var']);
    expect(new Set(chart.series.map((s) => s.key)).size).toBe(2);
  });

  it('reads custom metrics as plain numbers without a fixed top', () => {
    const chart = compareChart(answer([{ hostId: A, name: 'a', series: [] }]), 'custom.queue_depth');
    expect(chart.unit).toBe('number');
    expect(chart.yMax).toBeUndefined();
    expect(chart.points).toBe(0);
  });

  it('reads host ids from the URL, distinct and well formed', () => {
    expect(parseHostIds(`${A},${B},${A},nope,`)).toEqual([A, B]);
    expect(parseHostIds(null)).toEqual([]);
  });
});
