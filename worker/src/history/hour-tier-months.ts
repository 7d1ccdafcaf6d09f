import { and, eq, gte, lt, sql } from 'drizzle-orm';
import type { Queryable } from '../db/queryable.ts';
import { history1h } from '../db/schema.ts';
import { decodeChunk } from './chunk-codec.ts';
import { dropJobMarker, hasJobMarker } from './job-markers.ts';
import { nextPeriod } from './partitions.ts';
import { HOUR_MS, rerollup } from './rollup-chunk.ts';
import { writeTierChunk } from './rollup-job.ts';

/**
 * The 1-hour tier held a chunk per host, family and day until migration 0006; it holds one per month now (a
 * year's chart reads 12 chunks per family, not 365). The migration cannot re-encode chunks (the codec is the
 * Worker's), so it leaves a marker row in `history_jobs` and the jobs merge the day chunks of each (host,
 * family, month) into the month's chunk here, a bounded number per run, before any roll-up writes a month
 * chunk; the marker goes once none is left. A fresh database finds none on the first run.
 */
export const LEGACY_HOUR_CHUNKS_JOB = '1h_day_chunks';

export async function mergeLegacyHourChunks(
  database: Queryable,
  budget: { left: number },
): Promise<{ done: boolean; merged: number }> {
  if (!(await hasJobMarker(database, LEGACY_HOUR_CHUNKS_JOB))) return { done: true, merged: 0 };
  const limit = Math.max(0, budget.left);
  const groups = await database.execute<{ host_id: string; tenant_id: string; family: string; month: string | Date }>(
    sql`SELECT host_id, tenant_id, family, date_trunc('month', period_start, 'UTC') AS month FROM history_1h
        WHERE period_start <> date_trunc('month', period_start, 'UTC')
        GROUP BY 1, 2, 3, 4 ORDER BY 4, 1, 3 LIMIT ${limit}`,
  );
  let merged = 0;
  for (const group of groups.rows) {
    const month = new Date(group.month).getTime();
    const next = nextPeriod('month', month);
    const target = { tenantId: group.tenant_id, hostId: group.host_id, family: group.family, period: month };
    const rows = await database
      .select({ payload: history1h.payload })
      .from(history1h)
      .where(
        and(
          eq(history1h.hostId, target.hostId),
          eq(history1h.family, target.family),
          gte(history1h.periodStart, new Date(month)),
          lt(history1h.periodStart, new Date(next)),
        ),
      );
    // The day chunks of a month never overlap (the one at the month's start is its first day's).
    const chunk = rerollup(await Promise.all(rows.map((row) => decodeChunk(row.payload))), HOUR_MS);
    // One transaction, so a chart never sees a day both in the month's chunk and in its own.
    await database.transaction(async (tx) => {
      await writeTierChunk(tx, history1h, target, chunk);
      await tx
        .delete(history1h)
        .where(
          and(
            eq(history1h.hostId, target.hostId),
            eq(history1h.family, target.family),
            gte(history1h.periodStart, new Date(month + 1)),
            lt(history1h.periodStart, new Date(next)),
          ),
        );
    });
    merged++;
    budget.left--;
  }
  // Fewer than asked: none is left.
  if (groups.rows.length < limit) {
    await dropJobMarker(database, LEGACY_HOUR_CHUNKS_JOB);
    return { done: true, merged };
  }
  return { done: false, merged };
}
