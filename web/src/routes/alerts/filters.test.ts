import { describe, expect, it } from 'vitest';
import { HOST_A, RULE_CPU } from '#lib/alerts/fixtures.ts';
import { defaultFilters, historyQuery, pageSearch, readPageState } from './filters.ts';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

describe('alerts page filters', () => {
  it('round-trips the history filters through the URL', () => {
    const filters = {
      ...defaultFilters(),
      level: 'critical' as const,
      hostId: HOST_A,
      ruleId: RULE_CPU,
      range: 'custom' as const,
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-11-02T00:00:00.000Z',
    };
    const search = pageSearch('history', filters);
    expect(readPageState(new URLSearchParams(search))).toEqual({ view: 'history', filters });
  });

  it('leaves defaults out of the URL and the active view has none', () => {
    expect(pageSearch('history', defaultFilters())).toBe('?view=history');
    expect(pageSearch('active', { ...defaultFilters(), level: 'warning' })).toBe('');
  });

  it('ignores values it does not know', () => {
    expect(readPageState(new URLSearchParams('view=bogus&level=fatal&range=1y&hostId=../../x&from=yesterday'))).toEqual(
      { view: 'active', filters: defaultFilters() },
    );
  });

  it('turns a relative range into from = now − range', () => {
    expect(historyQuery({ ...defaultFilters(), range: '24h', level: 'warning' }, NOW, 'c2')).toEqual({
      view: 'history',
      level: 'warning',
      from: '2026-11-22T12:00:00.000Z',
      cursor: 'c2',
    });
  });

  it('passes a custom range as is, open-ended when one side is empty', () => {
    expect(
      historyQuery({ ...defaultFilters(), range: 'custom', from: '2026-11-01T00:00:00.000Z', hostId: HOST_A }, NOW),
    ).toEqual({ view: 'history', hostId: HOST_A, from: '2026-11-01T00:00:00.000Z' });
  });
});
