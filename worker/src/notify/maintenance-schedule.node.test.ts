import { describe, expect, it } from 'vitest';
import { maintenancePeriod } from './schedule.ts';
import type { NotifyMaintenanceWindow } from './types.ts';

/** What the API's `activeNow` and the notifier's muting both ask: is the window open at `now`. */
const windowOpenAt = (window: NotifyMaintenanceWindow, now: number) => maintenancePeriod(window, now) !== null;

const sundays: NotifyMaintenanceWindow = {
  id: 'w',
  name: 'Sunday backups',
  matchers: [],
  timeZone: 'Europe/Paris',
  days: ['sun'],
  start: '02:00',
  durationMinutes: 120,
  enabled: true,
};

describe('windowOpenAt', () => {
  it('follows the wall clock of the zone across daylight saving time', () => {
    // Winter: 02:00 Paris is 01:00 UTC. Sunday 2026-01-11.
    expect(windowOpenAt(sundays, Date.UTC(2026, 0, 11, 0, 59))).toBe(false);
    expect(windowOpenAt(sundays, Date.UTC(2026, 0, 11, 1, 0))).toBe(true);
    expect(windowOpenAt(sundays, Date.UTC(2026, 0, 11, 2, 59))).toBe(true);
    expect(windowOpenAt(sundays, Date.UTC(2026, 0, 11, 3, 0))).toBe(false);
    // Summer: 02:00 Paris is 00:00 UTC. Sunday 2026-07-12.
    expect(windowOpenAt(sundays, Date.UTC(2026, 6, 12, 0, 0))).toBe(true);
    expect(windowOpenAt(sundays, Date.UTC(2026, 6, 12, 2, 0))).toBe(false);
    // Not on Mondays.
    expect(windowOpenAt(sundays, Date.UTC(2026, 0, 12, 1, 30))).toBe(false);
  });

  it('runs past midnight into the next day, and never when disabled', () => {
    const overnight: NotifyMaintenanceWindow = { ...sundays, timeZone: 'UTC', start: '23:00', durationMinutes: 180 };
    expect(windowOpenAt(overnight, Date.UTC(2026, 0, 11, 23, 30))).toBe(true);
    expect(windowOpenAt(overnight, Date.UTC(2026, 0, 12, 1, 59))).toBe(true);
    expect(windowOpenAt(overnight, Date.UTC(2026, 0, 12, 2, 0))).toBe(false);
    expect(windowOpenAt({ ...overnight, enabled: false }, Date.UTC(2026, 0, 11, 23, 30))).toBe(false);
  });

  it('covers windows that last several days', () => {
    const week: NotifyMaintenanceWindow = { ...sundays, timeZone: 'UTC', start: '00:00', durationMinutes: 3 * 24 * 60 };
    expect(windowOpenAt(week, Date.UTC(2026, 0, 13, 23, 59))).toBe(true); // Tuesday
    expect(windowOpenAt(week, Date.UTC(2026, 0, 14, 0, 0))).toBe(false); // Wednesday
  });
});
