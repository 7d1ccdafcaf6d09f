import {
  AcceptedResponse,
  HostDetail,
  HostKeyReplacement,
  HostList,
  type HostListQuery,
  HostSparklines,
  type HostStatus,
  HostSummary,
} from '@pulsewire/protocol';
import { apiGet, apiSend, type RequestOptions } from './client.ts';

/** Hosts of the current organisation: the list with at-a-glance figures, and one host with its newest sample. */
export type { HostDetail, HostList, HostSparklines, HostStatus, HostSummary };
export type HostGlance = NonNullable<HostSummary['glance']>;

function listPath(query: HostListQuery): string {
  const params = new URLSearchParams();
  if (query.q) params.set('q', query.q);
  if (query.limit !== undefined) params.set('limit', String(query.limit));
  if (query.cursor) params.set('cursor', query.cursor);
  const search = params.toString();
  return search ? `/hosts?${search}` : '/hosts';
}

const hostPath = (id: string) => `/hosts/${encodeURIComponent(id)}`;

export const hosts = {
  /** One page in name order; `nextCursor` asks for the next. */
  list: (query: HostListQuery = {}, options?: RequestOptions) => apiGet(listPath(query), HostList, options),
  get: (id: string, options?: RequestOptions) => apiGet(hostPath(id), HostDetail, options),
  /** Sparkline points of up to 200 hosts in one request, over [from, to] (epoch ms; default the last 5 minutes). */
  sparklines: (ids: readonly string[], range: { from?: number; to?: number } = {}, options?: RequestOptions) => {
    const params = new URLSearchParams({ ids: ids.join(',') });
    if (range.from !== undefined) params.set('from', new Date(range.from).toISOString());
    if (range.to !== undefined) params.set('to', new Date(range.to).toISOString());
    return apiGet(`/hosts/sparklines?${params}`, HostSparklines, options);
  },
  revoke: (id: string) => apiSend('POST', `${hostPath(id)}/revoke`, undefined, HostSummary),
  /** Without a key: the machine's next enrollment with a new key takes the host over (within 24 h). */
  replaceKey: (id: string, publicKey?: string) =>
    apiSend('POST', `${hostPath(id)}/replace-key`, publicKey ? { publicKey } : {}, HostKeyReplacement),
  remove: (id: string) => apiSend('DELETE', hostPath(id), undefined, AcceptedResponse),
};
