import { sql } from 'drizzle-orm';
import type { Queryable } from '../db/queryable.ts';
import { decodeChunk } from './chunk-codec.ts';
import { dropJobMarker, hasJobMarker } from './job-markers.ts';
import { CHUNK_TABLES, ensurePartitions } from './partitions.ts';
import { DAY_MS, writeQuarterHourDay } from './rollup-job.ts';

/**
 * The 15-minute tier came with migration 0008; days rolled up before it have 1-minute chunks only (and raw
 * points for the last 30 days at most, so the 1-minute chunks are the source that reaches back as far as the
 * tier does). The migration leaves this marker in `history_jobs`, and the jobs build each closed day's
 * 15-minute chunks from its 1-minute chunk here, a bounded number per run, oldest first; the marker goes once
 * none is left. Until then a week's chart shows the days not yet done as gaps. A fresh database has no marker.
 */
export const QUARTER_HOUR_BACKFILL_JOB = '15m_from_1m';

export async function backfillQuarterHours(
  database: Queryable,
  budget: { left: number },
  rolledUpUntil: number,
): Promise<{ done: boolean; days: number }> {
  if (!(await hasJobMarker(database, QUARTER_HOUR_BACKFILL_JOB))) return { done: true, days: 0 };
  const limit = Math.max(0, budget.left);
  // Closed days only: the open day's first 1-minute chunk also starts at midnight but holds an hour or six.
  const closedUntil = new Date(Math.floor(rolledUpUntil / DAY_MS) * DAY_MS).toISOString();
  // The 1-minute payloads come with the list: one query per run, not one more per day.
  const days = await database.execute<{
    host_id: string;
    tenant_id: string;
    family: string;
    day: string | Date;
    payload: Uint8Array;
  }>(
    sql`SELECT m.host_id, m.tenant_id, m.family, m.period_start AS day, m.payload FROM history_1m m
        WHERE m.period_start < ${closedUntil}::timestamptz
          AND m.period_start = date_trunc('day', m.period_start, 'UTC')
          AND NOT EXISTS (SELECT 1 FROM history_15m q
            WHERE q.host_id = m.host_id AND q.family = m.family AND q.period_start = m.period_start)
        ORDER BY m.period_start, m.host_id, m.family LIMIT ${limit}`,
  );
  for (const row of days.rows) {
    const day = new Date(row.day).getTime();
    await ensurePartitions(database, CHUNK_TABLES['15m'], day, day + DAY_MS);
    const minutes = new Map([[row.family, await decodeChunk(row.payload)]]);
    await writeQuarterHourDay(database, { tenantId: row.tenant_id, hostId: row.host_id }, day, minutes);
    budget.left--;
  }
  // Fewer than asked: none is left.
  if (days.rows.length < limit) {
    await dropJobMarker(database, QUARTER_HOUR_BACKFILL_JOB);
    return { done: true, days: days.rows.length };
  }
  return { done: false, days: days.rows.length };
}
