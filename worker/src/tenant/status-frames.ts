import { MAX_STATUSES_PER_FRAME, type ServerHostStatuses } from '@pulsewire/protocol';
import type { Presence } from './presence.ts';

export type StatusEntry = ServerHostStatuses['statuses'][number];

export function statusEntry(hostId: string, p: Presence, previous: Presence['status'] | null): StatusEntry {
  return { hostId, status: p.status, previous, lastSeenAt: new Date(p.lastSeen).toISOString() };
}

/**
 * Host statuses as `host_statuses` messages of at most {@link MAX_STATUSES_PER_FRAME} entries: a
 * snapshot of 5,000 hosts is 5 frames, not 5,000, so it never trips a socket's unacked-frame bound.
 */
export function statusPages(entries: readonly StatusEntry[], at: number): Omit<ServerHostStatuses, 'seq'>[] {
  const pages: Omit<ServerHostStatuses, 'seq'>[] = [];
  const iso = new Date(at).toISOString();
  for (let i = 0; i < entries.length; i += MAX_STATUSES_PER_FRAME) {
    pages.push({ type: 'host_statuses', statuses: entries.slice(i, i + MAX_STATUSES_PER_FRAME), at: iso });
  }
  return pages;
}
