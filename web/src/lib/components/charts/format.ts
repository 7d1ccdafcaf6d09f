import { formatBytes, formatCount, formatPct, formatRate } from '#lib/format/format.ts';
import type { ValueUnit } from '#lib/live/rolling-series.svelte.ts';

/** Axis and tooltip text for a value of a chart's unit; the dashboard's one set of formatters. */
export function formatValue(unit: ValueUnit, value: number): string {
  switch (unit) {
    case 'percent':
      return formatPct(value);
    case 'bytes':
      return formatBytes(value);
    case 'bytesPerSec':
      return formatRate(value);
    case 'celsius':
      return Number.isFinite(value) ? `${Math.round(value)} °C` : '–';
    default:
      return formatCount(value);
  }
}

/** `14:03:07` in the viewer's time zone. */
export function formatClock(date: Date): string {
  return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}
