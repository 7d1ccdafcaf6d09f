import { type AlertLevel, alertLevels } from '@pulsewire/protocol';
import type { AlertFilters, AlertView } from '#lib/api/alerts.ts';

/**
 * The Alerts page's state in its URL (`/alerts?view=history&level=critical&range=7d`), so a filtered
 * history can be linked and survives a reload, and its translation into `GET /alerts` parameters.
 */

export const historyRanges = ['1h', '24h', '7d', '30d', 'custom'] as const;
export type HistoryRange = (typeof historyRanges)[number];
export const rangeLabel: Record<HistoryRange, string> = {
  '1h': 'Last hour',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
  custom: 'Custom range',
};
const rangeMs: Record<Exclude<HistoryRange, 'custom'>, number> = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};

export interface HistoryFilters {
  level: AlertLevel | '';
  hostId: string;
  ruleId: string;
  range: HistoryRange;
  /** ISO instants, for the custom range (either may be empty: open-ended). */
  from: string;
  to: string;
}

export const DEFAULT_RANGE: HistoryRange = '7d';

export function defaultFilters(): HistoryFilters {
  return { level: '', hostId: '', ruleId: '', range: DEFAULT_RANGE, from: '', to: '' };
}

const isoOrEmpty = (text: string | null) =>
  text && !Number.isNaN(Date.parse(text)) ? new Date(text).toISOString() : '';
const idOrEmpty = (text: string | null) => (text && /^[0-9a-f-]{36}$/i.test(text) ? text.toLowerCase() : '');

/** The page's view and filters from its query string; unknown or malformed values fall back to defaults. */
export function readPageState(params: Pick<URLSearchParams, 'get'>): { view: AlertView; filters: HistoryFilters } {
  const view: AlertView = params.get('view') === 'history' ? 'history' : 'active';
  const level = params.get('level');
  const range = params.get('range');
  return {
    view,
    filters: {
      level: (alertLevels as readonly string[]).includes(level ?? '') ? (level as AlertLevel) : '',
      hostId: idOrEmpty(params.get('hostId')),
      ruleId: idOrEmpty(params.get('ruleId')),
      range: (historyRanges as readonly string[]).includes(range ?? '') ? (range as HistoryRange) : DEFAULT_RANGE,
      from: isoOrEmpty(params.get('from')),
      to: isoOrEmpty(params.get('to')),
    },
  };
}

/** The query string for the page (defaults left out); `''` for the active view. */
export function pageSearch(view: AlertView, filters: HistoryFilters): string {
  if (view === 'active') return '';
  const params = new URLSearchParams({ view });
  if (filters.level) params.set('level', filters.level);
  if (filters.hostId) params.set('hostId', filters.hostId);
  if (filters.ruleId) params.set('ruleId', filters.ruleId);
  if (filters.range !== DEFAULT_RANGE) params.set('range', filters.range);
  if (filters.range === 'custom') {
    if (filters.from) params.set('from', filters.from);
    if (filters.to) params.set('to', filters.to);
  }
  return `?${params}`;
}

/** `GET /alerts` parameters for one page of history; `now` in epoch ms fixes the relative ranges. */
export function historyQuery(filters: HistoryFilters, now: number, cursor?: string): AlertFilters {
  const query: AlertFilters = { view: 'history' };
  if (filters.level) query.level = filters.level;
  if (filters.hostId) query.hostId = filters.hostId;
  if (filters.ruleId) query.ruleId = filters.ruleId;
  if (filters.range === 'custom') {
    if (filters.from) query.from = filters.from;
    if (filters.to) query.to = filters.to;
  } else {
    query.from = new Date(now - rangeMs[filters.range]).toISOString();
  }
  if (cursor) query.cursor = cursor;
  return query;
}
