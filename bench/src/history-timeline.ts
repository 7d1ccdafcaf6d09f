import { COMPACTION_GRACE_MS } from '../../worker/src/history/late.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Where one host's history stands at `now` after `days` of data, as the scheduled jobs leave it: hours are
 * compacted into raw chunks once closed (plus the grace) and rolled up as soon as compacted (into the day's
 * 1-minute chunk; a closed day into the month's 1-hour chunk), and the rest (the open hour) is still landing rows. `baselineFrom`: where the jsonb-row baseline
 * starts (`baselineDays` back, from midnight, so that a chart's first, step-aligned bucket is covered too).
 */
export interface HistoryTimeline {
  /** The first raw hour. */
  start: number;
  /** Raw chunks cover [start, compactedUntil); landing rows [compactedUntil, now). */
  compactedUntil: number;
  /** Roll-ups cover [day of start, rolledUpUntil): whole days, then the open day's closed hours. */
  rollupFrom: number;
  rolledUpUntil: number;
  baselineFrom: number;
  now: number;
}

export function historyTimeline(now: number, days: number, baselineDays: number): HistoryTimeline {
  const start = Math.floor((now - days * DAY) / HOUR) * HOUR;
  const compactedUntil = Math.floor((now - COMPACTION_GRACE_MS) / HOUR) * HOUR;
  return {
    start,
    compactedUntil,
    rollupFrom: Math.floor(start / DAY) * DAY,
    rolledUpUntil: compactedUntil,
    baselineFrom: Math.max(start, Math.floor((now - baselineDays * DAY) / DAY) * DAY),
    now,
  };
}
