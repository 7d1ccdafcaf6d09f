import { HostDetail, HostList, type HostStatus, type HostSummary } from '@pulsewire/protocol';
import { apiGet, type RequestOptions } from './client.ts';

/** Hosts of the current organisation: the list with at-a-glance figures, and one host with its newest sample. */
export type { HostDetail, HostStatus, HostSummary };
export type HostGlance = NonNullable<HostSummary['glance']>;

export const hosts = {
  list: (options?: RequestOptions) => apiGet('/hosts', HostList, options),
  get: (id: string, options?: RequestOptions) => apiGet(`/hosts/${encodeURIComponent(id)}`, HostDetail, options),
};
