import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toLocalInput } from '#lib/alerts/datetime.ts';
import { HOST_A, RULE_CPU } from '#lib/alerts/fixtures.ts';
import {
  describeSchedule,
  emptySilenceForm,
  emptyWindowForm,
  silenceDraft,
  silenceFromQuery,
  validateSilenceForm,
  validateWindowForm,
  windowToForm,
} from './silence-form.ts';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

// SilenceInput checks the end against the clock when there is no start.
beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
});
afterEach(() => vi.useRealTimers());

describe('silence form', () => {
  it('silences from now for a duration', () => {
    const form = emptySilenceForm(NOW);
    form.matchers = [{ name: 'host', op: '=', value: HOST_A }];
    form.comment = 'Kernel upgrade';
    expect(validateSilenceForm(form, NOW)).toEqual({
      ok: true,
      errors: {},
      body: {
        matchers: [{ name: 'host', op: '=', value: HOST_A }],
        endsAt: '2026-11-23T14:00:00.000Z',
        comment: 'Kernel upgrade',
      },
    });
  });

  it('counts the duration from a later start', () => {
    const form = emptySilenceForm(NOW);
    form.startNow = false;
    form.startsAt = toLocalInput(NOW + 3_600_000);
    form.duration = { amount: '30', unit: 'min' };
    expect(silenceDraft(form, NOW)).toMatchObject({
      startsAt: '2026-11-23T13:00:00.000Z',
      endsAt: '2026-11-23T13:30:00.000Z',
    });
  });

  it('asks for a matcher, a comment, and an end after the start', () => {
    const form = emptySilenceForm(NOW);
    form.matchers = [{ name: '', op: '=', value: '' }];
    expect(validateSilenceForm(form, NOW).errors).toEqual({
      matchers: 'Add at least one matcher: a silence without one would silence everything',
      comment: 'Required',
    });
    const late = emptySilenceForm(NOW);
    late.matchers = [{ name: 'level', op: '=~', value: '(' }];
    late.comment = 'x';
    late.endMode = 'at';
    late.endsAt = toLocalInput(NOW - 60_000);
    expect(validateSilenceForm(late, NOW).errors).toEqual({
      'matchers.0.value': 'Not a valid regular expression',
      endsAt: 'The end must be after the start',
    });
  });

  it('prefills the exact alert from the Alerts page link', () => {
    const params = new URLSearchParams({ rule: RULE_CPU, host: HOST_A, series: 'disk.used_pct{mount="/"}' });
    expect(silenceFromQuery(params, NOW)?.matchers).toEqual([
      { name: 'rule', op: '=', value: RULE_CPU },
      { name: 'host', op: '=', value: HOST_A },
      { name: 'series', op: '=', value: 'disk.used_pct{mount="/"}' },
    ]);
    expect(silenceFromQuery(new URLSearchParams(), NOW)).toBeNull();
  });
});

describe('maintenance window form', () => {
  it('sends the duration in minutes and every field of the schema', () => {
    const form = emptyWindowForm('Europe/Paris');
    form.name = 'Backups';
    form.duration = { amount: '1.5', unit: 'h' };
    form.matchers = [{ name: 'env', op: '=', value: 'prod' }];
    expect(validateWindowForm(form)).toEqual({
      ok: true,
      errors: {},
      body: {
        name: 'Backups',
        timeZone: 'Europe/Paris',
        days: ['sun'],
        start: '02:00',
        durationMinutes: 90,
        matchers: [{ name: 'env', op: '=', value: 'prod' }],
        enabled: true,
      },
    });
  });

  it('round-trips a stored window', () => {
    const stored = {
      id: RULE_CPU,
      name: 'Patch Tuesday',
      timeZone: 'America/New_York',
      days: ['tue' as const],
      start: '23:30',
      durationMinutes: 45,
      matchers: [{ name: 'role', op: '!=' as const, value: 'db' }],
      enabled: false,
      createdAt: '2026-11-23T12:00:00.000Z',
      activeNow: false,
    };
    const result = validateWindowForm(windowToForm(stored));
    const { id: _id, createdAt: _c, activeNow: _a, ...input } = stored;
    expect(result).toEqual({ ok: true, errors: {}, body: input });
  });

  it('reports days, start, zone and duration on their fields', () => {
    const form = emptyWindowForm('Nowhere/City');
    form.name = 'x';
    form.days = [];
    form.start = '2am';
    form.duration = { amount: '0', unit: 'min' };
    expect(Object.keys(validateWindowForm(form).errors).sort()).toEqual([
      'days',
      'durationMinutes',
      'start',
      'timeZone',
    ]);
  });

  it('describes a schedule in one line', () => {
    expect(describeSchedule({ days: ['sat', 'sun'], start: '02:00', durationMinutes: 150, timeZone: 'UTC' })).toBe(
      'Sat, Sun 02:00 for 2 h 30 min (UTC)',
    );
  });
});
