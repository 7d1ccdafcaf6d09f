import { type HostStatus, hostStatus } from '@pulsewire/protocol';

/**
 * The push interval the presence rule assumes is at least this long, so a host told to push every
 * second (watched live) is not called stale after a 3 s hiccup: it turns stale after 12.5 s of
 * silence, offline after 2 min.
 */
export const STATUS_MIN_PUSH_INTERVAL_MS = 5_000;

/** What the object remembers of one host, in its storage under `presence:<hostId>`. */
export interface Presence {
  /** Newest sample time seen (never in the future), as `hosts.last_seen_at` in Postgres. */
  lastSeen: number;
  /** The push interval the object last told this host's agent. */
  pushIntervalMs: number;
  /** The status last announced to sockets. */
  status: HostStatus;
}

export function statusOf(p: Pick<Presence, 'lastSeen' | 'pushIntervalMs'>, now: number): HostStatus {
  return hostStatus(p.lastSeen, now, Math.max(p.pushIntervalMs, STATUS_MIN_PUSH_INTERVAL_MS));
}

/**
 * When the host's status would next change if nothing arrives, or null when it is already offline.
 * The thresholds below are only candidates: `hostStatus` decides, so this cannot drift from it.
 */
export function nextTransitionAt(p: Pick<Presence, 'lastSeen' | 'pushIntervalMs'>, now: number): number | null {
  const current = statusOf(p, now);
  if (current === 'offline') return null;
  const interval = Math.max(p.pushIntervalMs, STATUS_MIN_PUSH_INTERVAL_MS);
  const candidates = [p.lastSeen + interval * 2.5, p.lastSeen + Math.max(120_000, interval * 4)]
    .map((t) => Math.floor(t) + 1)
    .filter((t) => t > now)
    .sort((a, b) => a - b);
  for (const t of candidates) if (statusOf(p, t) !== current) return t;
  // Unreachable with today's rule; check again in a minute rather than never.
  return now + 60_000;
}

/**
 * How stale the stored `lastSeen` of a host may get while its status holds: presence lives in memory and is
 * written on status and cadence changes, and otherwise at most this often, so an idle host's pushes cost no
 * storage write (issue #13). After an eviction the alarm checks a host it would call stale or offline against
 * Postgres' `hosts.last_seen_at` first (`last-seen.ts`), so a lagging stored time never announces a change.
 */
export const PRESENCE_PERSIST_MS = 5 * 60_000;

/** Whether `next` must be written over what storage holds (`stored`). */
export function presenceNeedsWrite(stored: Presence | undefined, next: Presence): boolean {
  return (
    stored === undefined ||
    stored.status !== next.status ||
    stored.pushIntervalMs !== next.pushIntervalMs ||
    next.lastSeen - stored.lastSeen >= PRESENCE_PERSIST_MS
  );
}
