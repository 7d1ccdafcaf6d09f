import type { MetricUnit } from '@pulsewire/protocol';
import {
  formatBytes,
  formatCount,
  formatMs,
  formatPct,
  formatPerSec,
  formatRate,
  formatWatts,
} from '#lib/format/format.ts';
import type { ValueUnit } from '#lib/live/rolling-series.svelte.ts';

/** Axis and tooltip text for a value of a chart's unit; the dashboard's one set of formatters. */
export function formatValue(unit: ValueUnit, value: number): string {
  if (!Number.isFinite(value)) return '–';
  switch (unit) {
    case 'percent':
      return formatPct(value);
    case 'bytes':
      return formatBytes(value);
    case 'bytesPerSec':
      return formatRate(value);
    case 'perSec':
      return formatPerSec(value);
    case 'celsius':
      return `${Math.round(value)} °C`;
    case 'watts':
      return formatWatts(value);
    case 'ms':
      return formatMs(value);
    default:
      return formatCount(value);
  }
}

const chartUnits: Record<MetricUnit, ValueUnit> = {
  pct: 'percent',
  bytes: 'bytes',
  bytes_per_s: 'bytesPerSec',
  per_s: 'perSec',
  count: 'number',
  celsius: 'celsius',
  watts: 'watts',
  ms: 'ms',
  number: 'number',
};

/** How a chart reads a metric of the catalog's unit. */
export function chartUnitOf(unit: MetricUnit): ValueUnit {
  return chartUnits[unit];
}

/** `14:03:07` in the viewer's time zone. */
export function formatClock(date: Date): string {
  return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Axis labels for a chart spanning `spanMs`, in the viewer's time zone: `14:05` within a few hours,
 * `Mar 3 14:00` within a few days, `Mar 3` within half a year, `Mar 2025` beyond.
 */
export function axisTimeFormat(spanMs: number): (date: Date) => string {
  if (spanMs <= 8 * HOUR) {
    return (d) => d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
  }
  if (spanMs <= 3 * DAY) {
    return (d) =>
      d.toLocaleString(undefined, {
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        hour12: false,
      });
  }
  if (spanMs <= 180 * DAY) return (d) => d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return (d) => d.toLocaleDateString(undefined, { month: 'short', year: 'numeric' });
}

/** A bucket's start as a tooltip header names it: the day alone for day-sized buckets, else day and time. */
export function bucketTimeFormat(stepMs: number): (date: Date) => string {
  if (stepMs >= DAY) {
    return (d) =>
      d.toLocaleDateString(undefined, { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' });
  }
  return (d) =>
    d.toLocaleString(undefined, {
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      ...(stepMs < 60_000 ? { second: '2-digit' } : {}),
      hour12: false,
    });
}
