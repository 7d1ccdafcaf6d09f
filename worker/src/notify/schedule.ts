import { TZDate } from '@date-fns/tz';
import type { QuietHours, Weekday } from '@pulsewire/protocol';
import type { NotifyMaintenanceWindow } from './types.ts';

/**
 * Recurring schedules in an IANA time zone: maintenance windows (start + duration) and channel
 * quiet hours (start–end clock times). Clock times are wall-clock times in the zone, so "02:00
 * Europe/Paris" is 01:00 UTC in winter and 00:00 UTC in summer; a start that falls in a DST gap
 * moves forward with the clock (02:30 on the spring-forward night is 03:30).
 */

export interface Period {
  start: number;
  end: number;
}

const weekdayIndex: Record<Weekday, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const DAY_MS = 86_400_000;

function clock(hhmm: string): [number, number] {
  const [h, m] = hhmm.split(':').map(Number);
  return [h ?? 0, m ?? 0];
}

/** The local calendar dates from `back` days before `now`'s local date up to it, newest first. */
function localDates(
  timeZone: string,
  now: number,
  back: number,
): { y: number; m: number; d: number; weekday: number }[] {
  const today = new TZDate(now, timeZone);
  const dates = [];
  for (let k = 0; k <= back; k++) {
    // Calendar arithmetic in UTC: the weekday of a date does not depend on the zone.
    const date = new Date(Date.UTC(today.getFullYear(), today.getMonth(), today.getDate() - k));
    dates.push({ y: date.getUTCFullYear(), m: date.getUTCMonth(), d: date.getUTCDate(), weekday: date.getUTCDay() });
  }
  return dates;
}

const at = (timeZone: string, y: number, m: number, d: number, hhmm: string) => {
  const [h, min] = clock(hhmm);
  return new TZDate(y, m, d, h, min, timeZone).getTime();
};

/** The occurrence of the window that contains `now`, if any. The duration is elapsed time. */
export function maintenancePeriod(window: NotifyMaintenanceWindow, now: number): Period | null {
  if (!window.enabled) return null;
  const durationMs = window.durationMinutes * 60_000;
  const days = new Set(window.days.map((day) => weekdayIndex[day]));
  for (const date of localDates(window.timeZone, now, Math.ceil(durationMs / DAY_MS) + 1)) {
    if (!days.has(date.weekday)) continue;
    const start = at(window.timeZone, date.y, date.m, date.d, window.start);
    if (start <= now && now < start + durationMs) return { start, end: start + durationMs };
  }
  return null;
}

/**
 * The quiet period that contains `now`, if any. `days` are the days a quiet period starts on; an
 * end at or before the start means the next day (22:00–07:00), equal times mean 24 hours.
 */
export function quietPeriod(quiet: QuietHours, now: number): Period | null {
  const days = new Set(quiet.days.map((day) => weekdayIndex[day]));
  const [sh, sm] = clock(quiet.start);
  const [eh, em] = clock(quiet.end);
  const overnight = eh * 60 + em <= sh * 60 + sm;
  for (const date of localDates(quiet.timeZone, now, 2)) {
    if (!days.has(date.weekday)) continue;
    const start = at(quiet.timeZone, date.y, date.m, date.d, quiet.start);
    const end = at(quiet.timeZone, date.y, date.m, date.d + (overnight ? 1 : 0), quiet.end);
    if (start <= now && now < end) return { start, end };
  }
  return null;
}
