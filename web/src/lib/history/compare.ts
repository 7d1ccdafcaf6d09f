import { type CompareSeries, MAX_COMPARE_HOSTS, metricDefinition } from '@pulsewire/protocol';
import { chartUnitOf } from '#lib/components/charts/format.ts';
import { colourAt } from '#lib/components/charts/palette.ts';
import { filledPoints, type HistoryChartModel, historyRows, seriesLabel } from './charts.ts';

/**
 * The compare view (`GET /series/compare`): one metric over several hosts as one chart, a line per host
 * (per host and label set when the metric is per mount, interface… and no label was picked).
 */

/** `disk.used_pct{mount="/"}` → `disk.used_pct`. */
export const metricPathOf = (series: string) => series.split('{')[0] as string;

export function compareChart(answer: CompareSeries, series: string): HistoryChartModel {
  const path = metricPathOf(series);
  const definition = metricDefinition(path);
  const lines = answer.hosts.flatMap((host) =>
    host.series.map((data) => ({ host, data, key: `${host.hostId}|${data.key}` })),
  );
  const perHostOne = answer.hosts.every((h) => h.series.length <= 1);
  const rows = historyRows(
    answer.timestamps,
    lines.map((l) => ({ key: l.key, data: l.data })),
  );
  return {
    id: 'compare',
    title: definition?.title ?? path,
    unit: definition ? chartUnitOf(definition.unit) : 'number',
    ...(definition?.unit === 'pct' && !path.startsWith('container.') ? { yMax: 100 } : {}),
    rows,
    series: lines.map((l, i) => ({
      key: l.key,
      label: perHostOne ? l.host.name : `${l.host.name} · ${seriesLabel(l.data)}`,
      color: colourAt(i),
      band: lines.length <= 3,
    })),
    stepMs: answer.stepMs,
    points: filledPoints(rows),
  };
}

/** Host ids from the URL (`hosts=a,b`): distinct, at most the API's cap. */
export function parseHostIds(value: string | null): string[] {
  return [...new Set((value ?? '').split(',').filter((id) => /^[0-9a-f-]{36}$/i.test(id)))].slice(0, MAX_COMPARE_HOSTS);
}
