import { type HistorySeries, type HistorySeriesData, metricDefinition } from '@pulsewire/protocol';
import { chartUnitOf } from '#lib/components/charts/format.ts';
import { colourAt } from '#lib/components/charts/palette.ts';
import type { SeriesDef, ValueUnit } from '#lib/live/rolling-series.svelte.ts';

/**
 * History answers (`GET /hosts/:id/series`, `GET /series/compare`) as chart models: one row per bucket with
 * each series' min/avg/max. An empty bucket is absent from its row, so lines and bands stop there: a gap
 * stays a gap, never a zero.
 */

export interface Bucket {
  min: number;
  avg: number;
  max: number;
}

export interface HistoryRow {
  /** The bucket's start, epoch ms. */
  ts: number;
  date: Date;
  /** Series key → its bucket; absent where the bucket holds no value. */
  values: Record<string, Bucket>;
}

export interface HistorySeriesDef extends SeriesDef {
  /** Draw the min–max band under the avg line (rolled-up buckets spread; raw ones are a line). */
  band: boolean;
}

export interface HistoryChartModel {
  /** Stable per chart (`cpu`, `net:eth0`), for keyed lists and test hooks. */
  id: string;
  title: string;
  unit: ValueUnit;
  /** Fixed top of the y axis (100 for percent charts), else from the data. */
  yMax?: number;
  rows: HistoryRow[];
  series: HistorySeriesDef[];
  /** Bucket width, ms: what each point summarises. */
  stepMs: number;
  /** Buckets holding at least one value (what a test or a screen reader can count). */
  points: number;
}

/** One series of an answer, read as buckets keyed by timestamp index (null where the bucket is empty). */
function bucketAt(data: HistorySeriesData, i: number): Bucket | null {
  const avg = data.avg[i];
  if (avg === null || avg === undefined) return null;
  return { min: data.min[i] ?? avg, avg, max: data.max[i] ?? avg };
}

/** Rows over `timestamps` for the given series, each under its own chart key. */
export function historyRows(
  timestamps: readonly number[],
  series: readonly { key: string; data: HistorySeriesData }[],
): HistoryRow[] {
  return timestamps.map((ts, i) => {
    const values: Record<string, Bucket> = {};
    for (const s of series) {
      const bucket = bucketAt(s.data, i);
      if (bucket) values[s.key] = bucket;
    }
    return { ts, date: new Date(ts), values };
  });
}

/** Rows with at least one value. */
export function filledPoints(rows: readonly HistoryRow[]): number {
  let n = 0;
  for (const row of rows) if (Object.keys(row.values).length > 0) n++;
  return n;
}

/** How a series is named on a chart: its label values (`/`, `eth0`, `web`), else its metric's title. */
export function seriesLabel(data: Pick<HistorySeriesData, 'metric' | 'labels'>): string {
  const entries = Object.entries(data.labels).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 1) return (entries[0] as [string, string])[1];
  if (entries.length > 1) return entries.map(([k, v]) => `${k}=${v}`).join(', ');
  return metricDefinition(data.metric)?.title ?? data.metric;
}

/** Bands are drawn for every series of a chart with a few lines; more would hide each other. */
export const MAX_BANDED_SERIES = 3;

export interface ChartPart {
  data: HistorySeriesData;
  /** Legend and tooltip name; default {@link seriesLabel}. */
  label?: string;
  color?: string;
  /** Force the band on or off; default: on when the chart has at most {@link MAX_BANDED_SERIES} series. */
  band?: boolean;
}

/** A chart model of some series of one answer. */
export function chartOf(
  answer: Pick<HistorySeries, 'timestamps' | 'stepMs'>,
  chart: { id: string; title: string; unit?: ValueUnit; yMax?: number },
  parts: readonly ChartPart[],
): HistoryChartModel {
  const bandAll = parts.length <= MAX_BANDED_SERIES;
  const series = parts.map((p, i) => ({
    key: p.data.key,
    label: p.label ?? seriesLabel(p.data),
    color: p.color ?? colourAt(i),
    band: p.band ?? bandAll,
  }));
  const rows = historyRows(
    answer.timestamps,
    parts.map((p) => ({ key: p.data.key, data: p.data })),
  );
  const unit = chart.unit ?? (parts[0] ? chartUnitOf(parts[0].data.unit) : 'number');
  return {
    id: chart.id,
    title: chart.title,
    unit,
    ...(chart.yMax !== undefined ? { yMax: chart.yMax } : {}),
    rows,
    series,
    stepMs: answer.stepMs,
    points: filledPoints(rows),
  };
}

/**
 * Rows where `key` has a value but neither neighbour does: a line cannot draw a lone bucket, so the chart
 * marks these with a dot (the first hour after a long gap, a series that appeared once).
 */
export function isolatedRows(rows: readonly HistoryRow[], key: string): HistoryRow[] {
  return rows.filter(
    (row, i) => row.values[key] !== undefined && !rows[i - 1]?.values[key] && !rows[i + 1]?.values[key],
  );
}
