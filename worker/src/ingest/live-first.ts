import { type Cadence, type LiveSample, type Sample, toLiveSample } from '@pulsewire/protocol';
import { TtlCache } from '../auth/ttl-cache.ts';

/**
 * Hosts whose last answer from the tenant object, in this isolate, was the live cadence: someone watches them,
 * so their next batch is worth showing before it is stored. A host at the live cadence pushes every second;
 * an entry outlives a few missed pushes, then the host takes the ordinary path (shown after the commit).
 */
const LIVE_HINT_TTL_MS = 10_000;
const hints = new TtlCache<string, true>({ ttlMs: LIVE_HINT_TTL_MS, maxEntries: 10_000 });

/** Remembers what the object answered for the host: live, or not any more. */
export function noteCadence(hostId: string, cadence: Cadence): void {
  if (cadence.live) hints.set(hostId, true);
  else hints.delete(hostId);
}

/** True when this isolate last heard that someone watches the host live. */
export function watchedLive(hostId: string): boolean {
  return hints.get(hostId) === true;
}

/**
 * The samples a batch would show live, before the insert says which it wrote: one per timestamp (what
 * `ON CONFLICT DO NOTHING` keeps of a batch), newest last. A timestamp the host already stored (a journal replay)
 * is shown again, which the dashboard merges by timestamp.
 */
export function liveSamplesBeforeStore(samples: readonly Sample[]): LiveSample[] {
  const seen = new Set<number>();
  const result: LiveSample[] = [];
  for (const sample of samples) {
    if (seen.has(sample.ts)) continue;
    seen.add(sample.ts);
    result.push(toLiveSample(sample));
  }
  return result;
}

/**
 * Sends a watched host's live frames while its batch is being stored (the tenant object's `showLive`), so the
 * dashboard does not wait for the transaction. Resolves true when the object sent them, false when it could
 * not be reached: then the frames go after the commit as for any host. Never rejects.
 */
export function showLiveEarly(show: () => Promise<boolean>): Promise<boolean> {
  try {
    return show().then(
      (shown) => shown,
      () => false,
    );
  } catch {
    return Promise.resolve(false);
  }
}
