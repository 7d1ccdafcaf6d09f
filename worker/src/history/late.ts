const HOUR_MS = 3_600_000;

/**
 * An hour is compacted this long after it ends: batches reach ingest within seconds, and an agent's
 * 30 s push interval plus retries fit well inside. Data for an hour that arrives later is marked late at
 * ingest (`history_late`) and merged into the hour's chunks by the next run.
 */
export const COMPACTION_GRACE_MS = 10 * 60_000;

/**
 * The hours of `timestamps` that compaction may already have closed at `now` (it closes an hour
 * COMPACTION_GRACE_MS after its end), each once: the (host, hour) pairs ingest marks late.
 */
export function lateHours(timestamps: readonly number[], now: number): number[] {
  const open = Math.floor((now - COMPACTION_GRACE_MS) / HOUR_MS) * HOUR_MS;
  const hours = new Set<number>();
  for (const ts of timestamps) if (ts < open) hours.add(Math.floor(ts / HOUR_MS) * HOUR_MS);
  return [...hours].sort((a, b) => a - b);
}
