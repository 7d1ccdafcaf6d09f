import type { LiveSample, Subscription } from '@pulsewire/protocol';
import { type DataFrame, dataFrame } from './flow-control.ts';
import { samplesFor } from './subscriptions.ts';

/** What the fan-out needs of a socket: its subscriptions (kept in memory by the object). */
export interface FanoutTarget {
  state: { subscriptions: Subscription[] };
}

/**
 * The socket's `metrics` subscriptions covering `hostId`: `'all'` when one of them is unfiltered (the common
 * case, answered without allocating), else the filtered ones, or null when none covers the host.
 */
export function metricsInterest(subscriptions: readonly Subscription[], hostId: string): 'all' | Subscription[] | null {
  let filtered: Subscription[] | null = null;
  for (const sub of subscriptions) {
    if (!sub.streams.includes('metrics')) continue;
    if (sub.hosts !== '*' && !sub.hosts.includes(hostId)) continue;
    if (!sub.filters?.containers) return 'all';
    filtered ??= [];
    filtered.push(sub);
  }
  return filtered;
}

/**
 * Sends one batch's `metrics` frame to every candidate socket that wants it: one seq for the batch, the
 * unfiltered frame serialised once for all (the per-socket work is a subscription check and a send), a
 * socket with container filters its own frame. `deliver` applies flow control. Candidates must not repeat
 * (see {@link candidatesFor}). Answers how many sockets were sent the batch.
 */
export function fanOutMetrics<S extends FanoutTarget>(
  candidates: Iterable<S>,
  hostId: string,
  samples: LiveSample[],
  seq: number,
  deliver: (socket: S, frame: DataFrame) => void,
): number {
  let shared: DataFrame | undefined;
  let sent = 0;
  for (const socket of candidates) {
    const interest = metricsInterest(socket.state.subscriptions, hostId);
    if (interest === null) continue;
    sent++;
    if (interest === 'all') {
      shared ??= dataFrame({ type: 'metrics', seq, hostId, samples });
      deliver(socket, shared);
    } else {
      deliver(socket, dataFrame({ type: 'metrics', seq, hostId, samples: samplesFor(interest, samples) }));
    }
  }
  return sent;
}

/**
 * The sockets that may follow `hostId`: those naming it, then those with a `"*"` subscription that do not
 * also name it, each once, without building an array or set per batch.
 */
export function* candidatesFor<S>(
  sockets: ReadonlyMap<string, S>,
  naming: ReadonlySet<string> | undefined,
  wildcard: ReadonlySet<string>,
): Generator<S> {
  if (naming) {
    for (const id of naming) {
      const socket = sockets.get(id);
      if (socket) yield socket;
    }
  }
  for (const id of wildcard) {
    if (naming?.has(id)) continue;
    const socket = sockets.get(id);
    if (socket) yield socket;
  }
}
