import { CompareSeries, type ExportQuery, HistorySeries, HostEvents } from '@pulsewire/protocol';
import { API_BASE, apiGet, type RequestOptions } from './client.ts';

/** Long-range history of the current organisation's hosts: bucketed series, compare, events and export. */
export type { CompareSeries, HistorySeries, HostEvents };

export interface SeriesRange {
  /** Series keys or metric paths (`disk.used_pct` is every mount). */
  series: readonly string[];
  /** Epoch ms. */
  from: number;
  to: number;
  /** Buckets per series at most (the API's cap is 1000). */
  maxPoints?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const hostPath = (id: string) => `/hosts/${encodeURIComponent(id)}`;

function rangeParams(query: SeriesRange): URLSearchParams {
  const params = new URLSearchParams();
  for (const name of query.series) params.append('series', name);
  params.set('from', iso(query.from));
  params.set('to', iso(query.to));
  if (query.maxPoints !== undefined) params.set('maxPoints', String(Math.round(query.maxPoints)));
  return params;
}

export const history = {
  /** `GET /hosts/:id/series`: min/avg/max per step-aligned bucket, `null` where a bucket is empty. */
  series: (hostId: string, query: SeriesRange, options?: RequestOptions) =>
    apiGet(`${hostPath(hostId)}/series?${rangeParams(query)}`, HistorySeries, options),

  /** `GET /series/compare`: one series over several hosts. */
  compare: (hostIds: readonly string[], query: SeriesRange & { series: [string] }, options?: RequestOptions) => {
    const params = rangeParams(query);
    params.set('hosts', hostIds.join(','));
    return apiGet(`/series/compare?${params}`, CompareSeries, options);
  },

  /** `GET /hosts/:id/events`: application events over a range, newest first. */
  events: (
    hostId: string,
    query: { from: number; to: number; kind?: string; subject?: string; limit?: number },
    options?: RequestOptions,
  ) => {
    const params = new URLSearchParams({ from: iso(query.from), to: iso(query.to) });
    if (query.kind) params.set('kind', query.kind);
    if (query.subject) params.set('subject', query.subject);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    return apiGet(`${hostPath(hostId)}/events?${params}`, HostEvents, options);
  },
};

/**
 * The URL of `GET /hosts/:id/series/export` (an attachment with its own file name): a plain link
 * downloads it with the session cookie, streamed by the browser rather than held in the page.
 */
export function exportUrl(
  hostId: string,
  query: { series: readonly string[]; from: number; to: number; format: NonNullable<ExportQuery['format']> },
): string {
  const params = new URLSearchParams();
  for (const name of query.series) params.append('series', name);
  params.set('from', iso(query.from));
  params.set('to', iso(query.to));
  params.set('format', query.format);
  return `${API_BASE}${hostPath(hostId)}/series/export?${params}`;
}
