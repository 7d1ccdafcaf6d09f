const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const date = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** `3.4 ms`, `27 ms`: one decimal below 10 ms, whole milliseconds above. */
export function formatMs(ms: number): string {
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms).toString()} ms`;
}

export function formatDateTime(iso: string | Date): string {
  return dateTime.format(typeof iso === 'string' ? new Date(iso) : iso);
}

export function formatTime(date: Date): string {
  return time.format(date);
}

/** `Nov 22, 2026`: for tables, where the time of day is noise (the full time goes in a tooltip). */
export function formatDate(iso: string | Date): string {
  return date.format(typeof iso === 'string' ? new Date(iso) : iso);
}
