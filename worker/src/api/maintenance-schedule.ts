import { TZDate } from '@date-fns/tz';
import type { Weekday } from '@pulsewire/protocol';

/**
 * Whether a recurring maintenance window is open at `now`, for `activeNow` in the API. Start times are
 * wall-clock times in the window's zone (02:00 Europe/Paris is 01:00 UTC in winter, 00:00 in summer);
 * the duration is elapsed time, so a window may run past midnight or over several days.
 *
 * The notifier decides what is muted with worker/src/notify/schedule.ts (`maintenancePeriod`), which
 * follows the same rules; the integrator keeps one of the two.
 */

const weekdayIndex: Record<Weekday, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const DAY_MS = 86_400_000;

export interface WindowSchedule {
  timeZone: string;
  days: readonly Weekday[];
  /** `HH:MM` */
  start: string;
  durationMinutes: number;
  enabled: boolean;
}

export function windowOpenAt(window: WindowSchedule, now: number): boolean {
  if (!window.enabled) return false;
  const durationMs = window.durationMinutes * 60_000;
  const days = new Set(window.days.map((d) => weekdayIndex[d]));
  const [hours = 0, minutes = 0] = window.start.split(':').map(Number);
  const today = new TZDate(now, window.timeZone);
  // An occurrence that started up to `duration` ago may still be open: look back that many days.
  for (let back = 0; back <= Math.ceil(durationMs / DAY_MS) + 1; back++) {
    // Calendar arithmetic in UTC: a date's weekday does not depend on the zone.
    const date = new Date(Date.UTC(today.getFullYear(), today.getMonth(), today.getDate() - back));
    if (!days.has(date.getUTCDay())) continue;
    const start = new TZDate(
      date.getUTCFullYear(),
      date.getUTCMonth(),
      date.getUTCDate(),
      hours,
      minutes,
      window.timeZone,
    ).getTime();
    if (start <= now && now < start + durationMs) return true;
  }
  return false;
}
