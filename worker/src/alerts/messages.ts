import { type Comparison, type MetricUnit, metricDefinition, type SeriesLabels } from '@pulsewire/protocol';

/**
 * The one-line texts of alerts ("CPU busy (avg 5 min) 97.2 % > 95 on web-1"), shared by every kind
 * so that e-mail, Slack, webhooks and the dashboard read alike.
 */

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** A number with at most four significant digits and no exponent for everyday magnitudes. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return String(Math.round(value * 10) / 10);
  return String(Number(value.toPrecision(3)));
}

function formatBytes(value: number): string {
  let v = value;
  let unit = 0;
  while (Math.abs(v) >= 1024 && unit < BINARY.length - 1) {
    v /= 1024;
    unit++;
  }
  return `${unit === 0 ? formatNumber(v) : (Math.round(v * 10) / 10).toString()} ${BINARY[unit]}`;
}

/** A value in its metric's unit: `97.2 %`, `1.5 GiB`, `12 MiB/s`, `71 °C`. */
export function formatValue(value: number, unit: MetricUnit): string {
  switch (unit) {
    case 'pct':
      return `${Math.round(value * 10) / 10} %`;
    case 'bytes':
      return formatBytes(value);
    case 'bytes_per_s':
      return `${formatBytes(value)}/s`;
    case 'per_s':
      return `${formatNumber(value)}/s`;
    case 'celsius':
      return `${formatNumber(value)} °C`;
    case 'watts':
      return `${formatNumber(value)} W`;
    case 'ms':
      return `${formatNumber(value)} ms`;
    default:
      return formatNumber(value);
  }
}

/** A threshold as people typed it: bare for percentages and plain numbers, in units otherwise. */
export function formatThreshold(value: number, unit: MetricUnit): string {
  return unit === 'pct' || unit === 'number' || unit === 'count' ? formatNumber(value) : formatValue(value, unit);
}

export const comparisonSigns: Record<Comparison, string> = { gt: '>', gte: '≥', lt: '<', lte: '≤' };

/** `45 s`, `5 min`, `2 h`, `1.5 h`, `3 d`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, ms / 1000);
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400 * 2) return `${Math.round((s / 3600) * 10) / 10} h`;
  return `${Math.round((s / 86_400) * 10) / 10} d`;
}

/** What a series is called in a message: `CPU busy`, `Disk used /`, `custom.queue_depth{queue="mail"}`. */
export function seriesTitle(metric: string, labels: SeriesLabels): string {
  const def = metricDefinition(metric);
  if (!def) return metric;
  if (def.dimension) {
    const value = labels[def.dimension];
    return value === undefined ? def.title : `${def.title} ${value}`;
  }
  const names = Object.keys(labels).sort();
  if (names.length === 0) return def.title;
  return `${def.title}{${names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(',')}}`;
}

export function unitOf(metric: string): MetricUnit {
  return metricDefinition(metric)?.unit ?? 'number';
}
