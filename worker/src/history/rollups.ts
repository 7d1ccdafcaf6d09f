import { and, eq, gte, lt } from 'drizzle-orm';
import type { Queryable } from '../db/queryable.ts';
import { history1h, history1m, historyRaw } from '../db/schema.ts';
import { type Chunk, decodeChunk, encodeChunk } from './chunk-codec.ts';
import { HOUR_MS, MINUTE_MS, rollup } from './rollup.ts';

export const DAY_MS = 24 * 3_600_000;

export interface HostDay {
  tenantId: string;
  hostId: string;
  /** The day's start, 00:00 UTC. */
  day: number;
}

/**
 * Rolls one host's day of raw chunks up into its 1-minute and 1-hour chunks (min/avg/max/count per bucket),
 * one per family, written whole. Both tiers come from the raw points (not 1 h from 1 min), so each equals a
 * direct aggregation of the raw data. Idempotent; run again after a late replay changed the day.
 */
export async function rollUpHostDay(database: Queryable, target: HostDay): Promise<number> {
  const { tenantId, hostId, day } = target;
  const rows = await database
    .select({ family: historyRaw.family, payload: historyRaw.payload })
    .from(historyRaw)
    .where(
      and(
        eq(historyRaw.hostId, hostId),
        eq(historyRaw.tenantId, tenantId),
        gte(historyRaw.periodStart, new Date(day)),
        lt(historyRaw.periodStart, new Date(day + DAY_MS)),
      ),
    );
  const byFamily = new Map<string, Chunk[]>();
  for (const row of rows) {
    const chunks = byFamily.get(row.family) ?? [];
    chunks.push(await decodeChunk(row.payload));
    byFamily.set(row.family, chunks);
  }
  const periodStart = new Date(day);
  for (const [family, chunks] of byFamily) {
    for (const [table, bucketMs] of [
      [history1m, MINUTE_MS],
      [history1h, HOUR_MS],
    ] as const) {
      const rolled = rollup(chunks, bucketMs);
      const payload = await encodeChunk(rolled);
      const pointCount = rolled.timestamps.length;
      await database
        .insert(table)
        .values({ tenantId, hostId, family, periodStart, pointCount, payload })
        .onConflictDoUpdate({ target: [table.hostId, table.family, table.periodStart], set: { pointCount, payload } });
    }
  }
  return byFamily.size;
}
