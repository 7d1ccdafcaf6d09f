/**
 * Durations as the editors show them: an amount and a unit (`5 min`), stored by the API in seconds
 * (or minutes, for re-notify). Amounts stay text while edited, so an empty or half-typed field is
 * reported by the schema at the right place instead of turning into 0.
 */

export const durationUnits = ['s', 'min', 'h', 'd'] as const;
export type DurationUnit = (typeof durationUnits)[number];

export const unitSeconds: Record<DurationUnit, number> = { s: 1, min: 60, h: 3600, d: 86_400 };
export const unitLabel: Record<DurationUnit, string> = { s: 'seconds', min: 'minutes', h: 'hours', d: 'days' };

export interface DurationField {
  amount: string;
  unit: DurationUnit;
}

/**
 * A number typed in a field: `undefined` when empty (the schema then says it is required, or takes
 * its default), NaN when not a number (the schema says so).
 */
export function numberOf(text: string | number): number | undefined {
  if (typeof text === 'number') return text;
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  return Number(trimmed.replace(',', '.'));
}

/** The field's value in seconds (`undefined` when empty; NaN when not a number). */
export function toSeconds(field: DurationField): number | undefined {
  const amount = numberOf(field.amount);
  if (amount === undefined) return undefined;
  return Math.round(amount * unitSeconds[field.unit]);
}

/** The largest unit that holds `seconds` whole (`300` → `5 min`, `90` → `90 s`, `0` → `0 min` of `zeroUnit`). */
export function fromSeconds(seconds: number, zeroUnit: DurationUnit = 'min'): DurationField {
  if (seconds === 0) return { amount: '0', unit: zeroUnit };
  for (const unit of ['d', 'h', 'min'] as const) {
    if (seconds % unitSeconds[unit] === 0) return { amount: String(seconds / unitSeconds[unit]), unit };
  }
  return { amount: String(seconds), unit: 's' };
}

/** `0 s`, `45 s`, `5 min`, `1 h 30 min`, `2 d`: compact text for lists. */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const parts: string[] = [];
  let rest = seconds;
  for (const unit of ['d', 'h', 'min', 's'] as const) {
    const n = Math.floor(rest / unitSeconds[unit]);
    if (n > 0) parts.push(`${n} ${unit}`);
    rest -= n * unitSeconds[unit];
  }
  return parts.slice(0, 2).join(' ');
}
