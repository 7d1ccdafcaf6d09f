import { type AlertLevel, metricDefinition, type RuleSpec } from '@pulsewire/protocol';
import type { ThresholdLine } from '#lib/alerts/thresholds.ts';
import type { PreviewHost, RulePreviewAnswer } from '#lib/api/alerts.ts';
import { chartUnitOf } from '#lib/components/charts/format.ts';
import type { ChartRow, ChartSeries, ValueUnit } from '#lib/live/rolling-series.svelte.ts';

/** The rule editor's preview: the answer of `POST /rules/preview` as charts and a "would fire" list. */

/** Hosts charted at most (the "would fire" list names every one). */
export const MAX_PREVIEW_CHARTS = 12;
/** Series per host chart at most (a host with forty containers stays readable). */
export const MAX_SERIES_PER_CHART = 8;

/** The unit charts use for a metric path (plain numbers for custom metrics and counts). */
export function valueUnitOf(metricPath: string | undefined): ValueUnit {
  const unit = metricPath ? metricDefinition(metricPath)?.unit : undefined;
  return unit ? chartUnitOf(unit) : 'number';
}

/** `mount=/, fs=ext4`, or the metric itself for a series without labels. */
export function seriesLabel(labels: Readonly<Record<string, string>>, fallback: string): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? fallback : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

/** One host's series as chart rows: one row per instant, a value per series key (nulls left out: a gap). */
export function hostChart(host: PreviewHost, metricPath: string | undefined): ChartSeries & { hidden: number } {
  const shown = host.series.slice(0, MAX_SERIES_PER_CHART);
  const byTs = new Map<number, Record<string, number>>();
  for (const s of shown) {
    for (const [ts, value] of s.points) {
      let values = byTs.get(ts);
      if (!values) {
        values = {};
        byTs.set(ts, values);
      }
      if (value !== null && Number.isFinite(value)) values[s.key] = value;
    }
  }
  const rows: ChartRow[] = [...byTs]
    .sort(([a], [b]) => a - b)
    .map(([ts, values]) => ({ ts, date: new Date(ts), values }));
  return {
    rows,
    series: shown.map((s) => ({ key: s.key, label: seriesLabel(s.labels, metricPath ?? s.key) })),
    unit: valueUnitOf(metricPath),
    hidden: host.series.length - shown.length,
  };
}

/**
 * The lines to draw over the preview: the warning and critical thresholds of a threshold rule, the
 * target of a forecast. A rate compares the change per second/minute/hour, not the values charted, so
 * it draws none; nor do kinds without a threshold.
 */
export function previewThresholds(rule: Pick<RuleSpec, 'name' | 'condition'>): ThresholdLine[] {
  const c = rule.condition;
  if (c.kind === 'threshold') {
    return (['critical', 'warning'] as const).flatMap((level) => {
      const t = c[level];
      return t ? [{ level, value: t.threshold, rule: rule.name }] : [];
    });
  }
  if (c.kind === 'forecast') return [{ level: c.level, value: c.threshold, rule: rule.name }];
  return [];
}

/** The top of the y axis: the data's and the thresholds' largest value with some headroom; 100 for a percent under it. */
export function previewYMax(chart: ChartSeries, lines: readonly ThresholdLine[]): number | undefined {
  let max = Number.NEGATIVE_INFINITY;
  for (const row of chart.rows) for (const v of Object.values(row.values)) max = Math.max(max, v);
  for (const line of lines) max = Math.max(max, line.value);
  if (!Number.isFinite(max) || max <= 0) return undefined;
  if (chart.unit === 'percent' && max <= 100) return 100;
  return max * 1.1;
}

export interface WouldFire {
  hostId: string;
  hostName: string;
  series: string;
  level: AlertLevel;
  value: number | null;
}

/** Every series the rule would fire on now, critical first, then by host and series. */
export function wouldFireNow(answer: RulePreviewAnswer): WouldFire[] {
  const out: WouldFire[] = [];
  for (const host of answer.hosts) {
    for (const s of host.series) {
      if (s.wouldFire) {
        out.push({ hostId: host.hostId, hostName: host.hostName, series: s.key, level: s.wouldFire, value: s.value });
      }
    }
  }
  return out.sort(
    (a, b) =>
      (a.level === b.level ? 0 : a.level === 'critical' ? -1 : 1) ||
      a.hostName.localeCompare(b.hostName) ||
      a.series.localeCompare(b.series),
  );
}
