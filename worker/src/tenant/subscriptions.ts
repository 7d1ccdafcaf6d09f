import {
  type AlertLevel,
  alertLevels,
  type ClientSubscribe,
  type ClientUnsubscribe,
  type HostSelector,
  type LiveSample,
  MAX_SUBSCRIBE_HOSTS,
  type StreamKind,
  type Subscription,
} from '@pulsewire/protocol';

/**
 * Subscriptions one socket may hold at once (each is one subscribe with its own host selector). The
 * dashboard subscribes per host and re-sends them all after a reconnect, so this stays below the
 * flood burst (`FLOOD.BURST`).
 */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 64;

function sameSelector(a: HostSelector, b: HostSelector): boolean {
  if (a === '*' || b === '*') return a === b;
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((id) => set.has(id));
}

function dedupe(hosts: HostSelector): HostSelector {
  return hosts === '*' ? '*' : [...new Set(hosts)];
}

/**
 * Adds a subscription. One with the same host selector (the same set of ids, or both `"*"`) is
 * replaced: its streams and filters become the new ones.
 */
export function applySubscribe(current: Subscription[], message: ClientSubscribe): Subscription[] {
  const next: Subscription = {
    hosts: dedupe(message.hosts),
    streams: [...new Set(message.streams)],
    ...(message.filters && Object.keys(message.filters).length > 0 ? { filters: message.filters } : {}),
  };
  const index = current.findIndex((s) => sameSelector(s.hosts, next.hosts));
  if (index === -1) return [...current, next];
  return current.map((s, i) => (i === index ? next : s));
}

/**
 * Removes streams (all when none are named) for the given hosts. `"*"` removes them from every
 * subscription. Naming ids narrows subscriptions that list those ids (splitting one if only some
 * of its streams go); it cannot carve hosts out of a `"*"` subscription, which has no exclusions.
 */
export function applyUnsubscribe(current: Subscription[], message: ClientUnsubscribe): Subscription[] {
  const removed = new Set<StreamKind>(message.streams ?? ['metrics', 'host_status', 'events', 'alerts']);
  const result: Subscription[] = [];
  for (const sub of current) {
    const keptStreams = sub.streams.filter((s) => !removed.has(s));
    if (message.hosts === '*') {
      if (keptStreams.length > 0) result.push({ ...sub, streams: keptStreams });
      continue;
    }
    if (sub.hosts === '*') {
      result.push(sub);
      continue;
    }
    const named = new Set(message.hosts);
    const affected = sub.hosts.filter((h) => named.has(h));
    if (affected.length === 0) {
      result.push(sub);
      continue;
    }
    const untouched = sub.hosts.filter((h) => !named.has(h));
    if (untouched.length > 0) result.push({ ...sub, hosts: untouched });
    if (keptStreams.length > 0) result.push({ ...sub, hosts: affected, streams: keptStreams });
  }
  return result;
}

/** Why a socket's subscriptions are refused, or null when they are within bounds. */
export function subscriptionLimitError(subscriptions: Subscription[]): string | null {
  if (subscriptions.length > MAX_SUBSCRIPTIONS_PER_SOCKET) {
    return `a socket may hold at most ${MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions; unsubscribe or use "*"`;
  }
  const ids = new Set(subscriptions.flatMap((s) => (s.hosts === '*' ? [] : s.hosts)));
  if (ids.size > MAX_SUBSCRIBE_HOSTS) {
    return `a socket may name at most ${MAX_SUBSCRIBE_HOSTS} hosts across its subscriptions; use "*"`;
  }
  return null;
}

export function coversHost(sub: Subscription, hostId: string | null): boolean {
  if (sub.hosts === '*') return true;
  return hostId !== null && sub.hosts.includes(hostId);
}

/** The subscriptions of a socket that want `stream` for `hostId` (null: a tenant-wide item). */
export function matching(subscriptions: Subscription[], stream: StreamKind, hostId: string | null): Subscription[] {
  return subscriptions.filter((s) => s.streams.includes(stream) && (hostId === null || coversHost(s, hostId)));
}

/** True when a socket names this host explicitly in a `metrics` subscription ("watching it live"). */
export function watchesLive(subscriptions: Subscription[], hostId: string): boolean {
  return subscriptions.some((s) => s.hosts !== '*' && s.hosts.includes(hostId) && s.streams.includes('metrics'));
}

/**
 * Samples for a socket given its matching `metrics` subscriptions: an unfiltered subscription
 * wins; otherwise the container section keeps the containers any of them names (by name or
 * compose service).
 */
export function samplesFor(subs: Subscription[], samples: LiveSample[]): LiveSample[] {
  if (subs.length === 0) return [];
  if (subs.some((s) => !s.filters?.containers)) return samples;
  const wanted = new Set(subs.flatMap((s) => s.filters?.containers ?? []));
  return samples.map((sample) =>
    sample.containers
      ? {
          ...sample,
          containers: sample.containers.filter((c) => wanted.has(c.name) || (c.service && wanted.has(c.service))),
        }
      : sample,
  );
}

export function wantsEvent(subs: Subscription[], kind: string): boolean {
  return subs.some((s) => !s.filters?.eventKinds || s.filters.eventKinds.includes(kind));
}

const levelRank = (level: AlertLevel) => alertLevels.indexOf(level);

export function wantsAlert(subs: Subscription[], level: AlertLevel): boolean {
  return subs.some((s) => !s.filters?.minAlertLevel || levelRank(level) >= levelRank(s.filters.minAlertLevel));
}
