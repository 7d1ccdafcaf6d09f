/**
 * The time range the host page and the compare view draw: the live per-second view, a span ending now
 * (1 h … 1 y), or a custom [from, to]. It lives in the URL (`?range=30d`, `?range=custom&from=…&to=…`) so a
 * reload or a shared link shows the same thing.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const RANGE_PRESETS = {
  '1h': { label: '1 h', spanMs: HOUR },
  '6h': { label: '6 h', spanMs: 6 * HOUR },
  '24h': { label: '24 h', spanMs: DAY },
  '7d': { label: '7 d', spanMs: 7 * DAY },
  '30d': { label: '30 d', spanMs: 30 * DAY },
  '1y': { label: '1 y', spanMs: 365 * DAY },
} as const;
export type RangePreset = keyof typeof RANGE_PRESETS;
export const rangePresets = Object.keys(RANGE_PRESETS) as RangePreset[];

export type RangeChoice =
  | { kind: 'live' }
  | { kind: 'preset'; preset: RangePreset }
  | { kind: 'custom'; from: number; to: number };

/** What the URL names; `fallback` when it names nothing or something this build does not know. */
export function parseRange(
  params: Pick<URLSearchParams, 'get'>,
  fallback: RangeChoice = { kind: 'live' },
): RangeChoice {
  const range = params.get('range');
  if (range === 'live') return { kind: 'live' };
  if (range !== null && Object.hasOwn(RANGE_PRESETS, range)) return { kind: 'preset', preset: range as RangePreset };
  if (range === 'custom') {
    const from = Date.parse(params.get('from') ?? '');
    const to = Date.parse(params.get('to') ?? '');
    if (Number.isFinite(from) && Number.isFinite(to) && from < to) return { kind: 'custom', from, to };
  }
  return fallback;
}

/** `search` (a query string or its parameters) with the range written into it, other parameters kept. */
export function withRange(search: string | { toString(): string }, choice: RangeChoice): URLSearchParams {
  const next = new URLSearchParams(search.toString());
  next.delete('from');
  next.delete('to');
  if (choice.kind === 'live') next.set('range', 'live');
  else if (choice.kind === 'preset') next.set('range', choice.preset);
  else {
    next.set('range', 'custom');
    next.set('from', isoSeconds(choice.from));
    next.set('to', isoSeconds(choice.to));
  }
  return next;
}

/** The instants a history range covers now; null for the live view. */
export function resolveRange(choice: RangeChoice, now: number): { from: number; to: number } | null {
  if (choice.kind === 'live') return null;
  if (choice.kind === 'custom') return { from: choice.from, to: choice.to };
  return { from: now - RANGE_PRESETS[choice.preset].spanMs, to: now };
}

export function sameRange(a: RangeChoice, b: RangeChoice): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'preset' && b.kind === 'preset') return a.preset === b.preset;
  if (a.kind === 'custom' && b.kind === 'custom') return a.from === b.from && a.to === b.to;
  return true;
}

/** A custom range zoomed to by brushing: whole seconds, and at least `minMs` wide (a click-size brush). */
export function zoomRange(from: number, to: number, minMs = 60_000): RangeChoice {
  let start = Math.floor(Math.min(from, to) / 1000) * 1000;
  let end = Math.ceil(Math.max(from, to) / 1000) * 1000;
  if (end - start < minMs) {
    const middle = (start + end) / 2;
    start = Math.floor((middle - minMs / 2) / 1000) * 1000;
    end = start + minMs;
  }
  return { kind: 'custom', from: start, to: end };
}

/** `2025-03-01T12:00:00Z`: the URL's form (no milliseconds, which no chart needs). */
export function isoSeconds(ms: number): string {
  return new Date(Math.round(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The value of an `<input type="datetime-local">` for an instant, in the viewer's time zone. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** An `<input type="datetime-local">` value (viewer's time zone) as epoch ms; null when empty or invalid. */
export function fromLocalInput(value: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) return null;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : null;
}

/** How a range reads in a heading: `last 30 d`, or its two ends. */
export function describeRange(choice: RangeChoice, format: (ms: number) => string = defaultStamp): string {
  if (choice.kind === 'live') return 'live';
  if (choice.kind === 'preset') return `last ${RANGE_PRESETS[choice.preset].label}`;
  return `${format(choice.from)} – ${format(choice.to)}`;
}

function defaultStamp(ms: number): string {
  return new Date(ms).toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });
}
