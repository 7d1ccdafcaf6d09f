import { describe, expect, it } from 'vitest';
import { cpuRule, diskRule, HOST_A, HOST_B } from '#lib/alerts/fixtures.ts';
import type { PreviewHost } from '#lib/api/alerts.ts';
import { metricGroups, seriesSuggestions } from './metric-picker.ts';
import {
  hostChart,
  MAX_SERIES_PER_CHART,
  previewThresholds,
  previewYMax,
  seriesLabel,
  wouldFireNow,
} from './preview.ts';
import { isShownPath } from './rule-form.ts';

const host = (over: Partial<PreviewHost> = {}): PreviewHost => ({
  hostId: HOST_A,
  hostName: 'web-1',
  series: [
    {
      key: 'disk.used_pct{mount="/"}',
      labels: { mount: '/' },
      points: [
        [1000, 80],
        [2000, null],
        [3000, 91],
      ],
      wouldFire: 'warning',
      value: 91,
    },
    {
      key: 'disk.used_pct{mount="/data"}',
      labels: { mount: '/data' },
      points: [
        [1000, 40],
        [3000, 42],
      ],
      wouldFire: null,
      value: 42,
    },
  ],
  ...over,
});

describe('rule preview', () => {
  it('merges a host’s series into chart rows by instant, leaving nulls out as gaps', () => {
    const chart = hostChart(host(), 'disk.used_pct');
    expect(chart.unit).toBe('percent');
    expect(chart.series).toEqual([
      { key: 'disk.used_pct{mount="/"}', label: 'mount=/' },
      { key: 'disk.used_pct{mount="/data"}', label: 'mount=/data' },
    ]);
    expect(chart.rows.map((r) => [r.ts, r.values])).toEqual([
      [1000, { 'disk.used_pct{mount="/"}': 80, 'disk.used_pct{mount="/data"}': 40 }],
      [2000, {}],
      [3000, { 'disk.used_pct{mount="/"}': 91, 'disk.used_pct{mount="/data"}': 42 }],
    ]);
  });

  it('charts a bounded number of series per host and says how many it left out', () => {
    const many = Array.from({ length: MAX_SERIES_PER_CHART + 3 }, (_, i) => ({
      key: `container.cpu_pct{container="c${i}"}`,
      labels: { container: `c${i}` },
      points: [[1, i] as [number, number]],
      wouldFire: null,
      value: i,
    }));
    const chart = hostChart(host({ series: many }), 'container.cpu_pct');
    expect(chart.series).toHaveLength(MAX_SERIES_PER_CHART);
    expect(chart.hidden).toBe(3);
  });

  it('draws a threshold rule’s levels and a forecast’s target, nothing for a rate', () => {
    expect(previewThresholds(cpuRule()).map((l) => [l.level, l.value])).toEqual([
      ['critical', 97],
      ['warning', 90],
    ]);
    const forecast = cpuRule({
      condition: {
        kind: 'forecast',
        metric: { path: 'disk.used_pct', match: [] },
        lookbackHours: 6,
        horizonHours: 24,
        comparison: 'gt',
        threshold: 100,
        level: 'warning',
      },
    });
    expect(previewThresholds(forecast)).toEqual([{ level: 'warning', value: 100, rule: 'High CPU' }]);
    const rate = cpuRule({
      condition: {
        kind: 'rate',
        metric: { path: 'net.rx', match: [] },
        windowSeconds: 300,
        per: 'minute',
        comparison: 'gt',
        warning: { threshold: 5 },
      },
    });
    expect(previewThresholds(rate)).toEqual([]);
  });

  it('puts the y axis top at 100 for percentages, else above the largest value or threshold', () => {
    const lines = previewThresholds(diskRule());
    expect(previewYMax(hostChart(host(), 'disk.used_pct'), lines)).toBe(100);
    const bytes = hostChart(host(), 'memory.used');
    expect(previewYMax(bytes, [{ level: 'critical', value: 200, rule: 'x' }])).toBeCloseTo(220);
    expect(previewYMax({ rows: [], series: [], unit: 'number' }, [])).toBeUndefined();
  });

  it('lists what would fire now, critical first, then by host', () => {
    const answer = {
      hosts: [
        host(),
        host({
          hostId: HOST_B,
          hostName: 'db-1',
          series: [
            { key: 'disk.used_pct{mount="/"}', labels: { mount: '/' }, points: [], wouldFire: 'critical', value: 97 },
          ],
        }),
        host({ hostId: HOST_B, hostName: 'app-1' }),
      ],
    };
    expect(wouldFireNow(answer).map((f) => [f.level, f.hostName])).toEqual([
      ['critical', 'db-1'],
      ['warning', 'app-1'],
      ['warning', 'web-1'],
    ]);
  });

  it('labels a series by its labels, or by the metric when it has none', () => {
    expect(seriesLabel({ mount: '/', fs: 'ext4' }, 'disk.used_pct')).toBe('fs=ext4, mount=/');
    expect(seriesLabel({}, 'cpu.total')).toBe('cpu.total');
  });
});

describe('metric picker', () => {
  it('groups the catalogue by area, memory and swap together', () => {
    const groups = metricGroups([
      { path: 'cpu.total', title: 'CPU busy', unit: 'pct' },
      { path: 'memory.used_pct', title: 'Memory used', unit: 'pct' },
      { path: 'swap.used_pct', title: 'Swap used', unit: 'pct' },
      { path: 'custom.jobs', title: 'jobs', unit: 'number' },
    ]);
    expect(groups.map((g) => [g.name, g.metrics.length])).toEqual([
      ['CPU', 1],
      ['Memory', 2],
      ['Custom metrics', 1],
    ]);
  });

  it('offers the metric’s dimension and the label values seen on the hosts', () => {
    expect(
      seriesSuggestions({
        path: 'disk.used_pct',
        title: 'Disk used',
        unit: 'pct',
        dimension: 'mount',
        series: [{ mount: '/data' }, { mount: '/' }, { mount: '/data' }],
      }),
    ).toEqual({ names: ['mount'], values: { mount: ['/', '/data'] } });
    expect(seriesSuggestions(undefined)).toEqual({ names: [], values: {} });
  });
});

describe('isShownPath', () => {
  it('knows the fields and groups the editor shows errors on', () => {
    expect(isShownPath('condition.warning.recovery')).toBe(true);
    expect(isShownPath('condition.metric.match.2.value')).toBe(true);
    expect(isShownPath('labels.team')).toBe(true);
    expect(isShownPath('condition')).toBe(false);
    expect(isShownPath('builtIn')).toBe(false);
  });
});
