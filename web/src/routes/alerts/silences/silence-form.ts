import { MaintenanceWindowInput, SilenceInput, type Weekday } from '@pulsewire/protocol';
import type { z } from 'zod';
import { fromLocalInput, toLocalInput } from '#lib/alerts/datetime.ts';
import { type DurationField, fromSeconds, toSeconds } from '#lib/alerts/durations.ts';
import { type MatcherRow, matchersOf, rowsOf } from '#lib/alerts/matchers.ts';
import { type FieldErrors, issuesToErrors } from '#lib/alerts/validation.ts';
import type { MaintenanceWindow } from '#lib/api/alerts.ts';

/**
 * The silence and maintenance window dialogs: their state, their request bodies, and validation with
 * the protocol's `SilenceInput` / `MaintenanceWindowInput` (errors keyed by body path).
 */

/** Names a silence or window can match on, besides any rule or host label. */
export const silenceMatcherNames = ['rule', 'rule_name', 'host', 'host_name', 'level', 'series'] as const;

export interface SilenceForm {
  matchers: MatcherRow[];
  /** Start now, or at `startsAt` (a datetime-local value). */
  startNow: boolean;
  startsAt: string;
  /** End after `duration` from the start, or at `endsAt` (a datetime-local value). */
  endMode: 'duration' | 'at';
  duration: DurationField;
  endsAt: string;
  comment: string;
}

export function emptySilenceForm(now: number): SilenceForm {
  return {
    matchers: [],
    startNow: true,
    startsAt: toLocalInput(now),
    endMode: 'duration',
    duration: { amount: '2', unit: 'h' },
    endsAt: toLocalInput(now + 2 * 3_600_000),
    comment: '',
  };
}

/**
 * A silence prefilled from the Alerts page's "Silence" link (`?rule=…&host=…&series=…`): the exact
 * alert, by rule id, host id and series.
 */
export function silenceFromQuery(params: Pick<URLSearchParams, 'get'>, now: number): SilenceForm | null {
  const form = emptySilenceForm(now);
  for (const name of ['rule', 'host', 'series'] as const) {
    const value = params.get(name);
    if (value) form.matchers.push({ name, op: '=', value });
  }
  return form.matchers.length > 0 ? form : null;
}

/** The request body; the end of a duration counts from the start (now when starting now). */
export function silenceDraft(form: SilenceForm, now: number): Record<string, unknown> {
  const startsAt = form.startNow ? undefined : (fromLocalInput(form.startsAt) ?? undefined);
  let endsAt: string | undefined;
  if (form.endMode === 'at') {
    endsAt = fromLocalInput(form.endsAt) ?? undefined;
  } else {
    const seconds = toSeconds(form.duration);
    const from = startsAt ? Date.parse(startsAt) : now;
    endsAt =
      seconds === undefined || !Number.isFinite(seconds) ? undefined : new Date(from + seconds * 1000).toISOString();
  }
  return {
    matchers: matchersOf(form.matchers),
    ...(startsAt ? { startsAt } : {}),
    endsAt,
    comment: form.comment,
  };
}

export type SilenceValidation =
  | { ok: true; body: z.output<typeof SilenceInput>; errors: FieldErrors }
  | { ok: false; errors: FieldErrors };

export function validateSilenceForm(form: SilenceForm, now: number): SilenceValidation {
  const parsed = SilenceInput.safeParse(silenceDraft(form, now));
  if (parsed.success) return { ok: true, body: parsed.data, errors: {} };
  const errors = issuesToErrors(parsed.error.issues);
  if (errors.endsAt && form.endMode === 'duration' && toSeconds(form.duration) !== undefined) {
    errors.endsAt = 'The silence must last longer than that';
  } else if (errors.endsAt?.startsWith('EndsAt must be after')) {
    errors.endsAt = 'The end must be after the start';
  }
  // An empty list is reported on the list itself; say what to do.
  if (errors.matchers && form.matchers.every((m) => m.name.trim() === '' && m.value === '')) {
    errors.matchers = 'Add at least one matcher: a silence without one would silence everything';
  }
  return { ok: false, errors };
}

export interface WindowForm {
  name: string;
  timeZone: string;
  days: Weekday[];
  start: string;
  duration: DurationField;
  matchers: MatcherRow[];
  enabled: boolean;
}

export function emptyWindowForm(timeZone: string): WindowForm {
  return {
    name: '',
    timeZone,
    days: ['sun'],
    start: '02:00',
    duration: { amount: '2', unit: 'h' },
    matchers: [],
    enabled: true,
  };
}

export function windowToForm(w: MaintenanceWindow): WindowForm {
  return {
    name: w.name,
    timeZone: w.timeZone,
    days: [...w.days],
    start: w.start,
    duration: fromSeconds(w.durationMinutes * 60, 'h'),
    matchers: rowsOf(w.matchers),
    enabled: w.enabled,
  };
}

export function windowDraft(form: WindowForm): Record<string, unknown> {
  const seconds = toSeconds(form.duration);
  return {
    name: form.name,
    timeZone: form.timeZone,
    days: form.days,
    start: form.start,
    durationMinutes: seconds === undefined ? undefined : seconds / 60,
    matchers: matchersOf(form.matchers),
    enabled: form.enabled,
  };
}

export type WindowValidation =
  | { ok: true; body: z.output<typeof MaintenanceWindowInput>; errors: FieldErrors }
  | { ok: false; errors: FieldErrors };

export function validateWindowForm(form: WindowForm): WindowValidation {
  const parsed = MaintenanceWindowInput.safeParse(windowDraft(form));
  if (parsed.success) return { ok: true, body: parsed.data, errors: {} };
  return { ok: false, errors: issuesToErrors(parsed.error.issues) };
}

const dayName: Record<Weekday, string> = {
  mon: 'Mon',
  tue: 'Tue',
  wed: 'Wed',
  thu: 'Thu',
  fri: 'Fri',
  sat: 'Sat',
  sun: 'Sun',
};

/** `Sun 02:00 for 2 h (Europe/Paris)`. */
export function describeSchedule(
  w: Pick<MaintenanceWindow, 'days' | 'start' | 'durationMinutes' | 'timeZone'>,
): string {
  const days = w.days.length === 7 ? 'Every day' : w.days.map((d) => dayName[d]).join(', ');
  const h = Math.floor(w.durationMinutes / 60);
  const m = w.durationMinutes % 60;
  const length = [h ? `${h} h` : '', m ? `${m} min` : ''].filter(Boolean).join(' ');
  return `${days} ${w.start} for ${length} (${w.timeZone})`;
}
