/**
 * `<input type="datetime-local">` speaks local wall-clock time without a zone (`2026-11-23T14:05`);
 * the API speaks ISO 8601 instants. These convert between the two in the viewer's time zone.
 */

const pad = (n: number) => String(n).padStart(2, '0');

/** An instant as the value of a datetime-local input, in the viewer's zone (minutes precision). */
export function toLocalInput(at: string | number | Date): string {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value as an ISO instant; null when empty or not a time. */
export function fromLocalInput(local: string): string | null {
  if (local.trim() === '') return null;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** The viewer's IANA time zone (the default of every zone picker). */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Every IANA zone the browser knows, with UTC, sorted; a short list when the browser cannot tell. */
export function timeZones(): string[] {
  const known =
    typeof Intl.supportedValuesOf === 'function'
      ? Intl.supportedValuesOf('timeZone')
      : ['Europe/London', 'America/New_York'];
  return [...new Set(['UTC', ...known])].sort((a, b) => (a === 'UTC' ? -1 : b === 'UTC' ? 1 : a.localeCompare(b)));
}
