import { and, eq, gte, lt } from 'drizzle-orm';
import type { Queryable } from '../db/queryable.ts';
import { history1h, history1m, historyRaw } from '../db/schema.ts';
import { type Chunk, decodeChunk, encodeChunk } from './chunk-codec.ts';
import type { HostHour } from './compaction.ts';
import { periodStart } from './partitions.ts';
import { HOUR_MS, MINUTE_MS, type RollupBucketMs, replaceRange, rollup } from './rollup-chunk.ts';

export const DAY_MS = 24 * HOUR_MS;

export interface HostDay {
  tenantId: string;
  hostId: string;
  /** The day's start, 00:00 UTC. */
  day: number;
}

type TierTable = typeof history1m | typeof history1h;

/** The host's raw chunks with a period start in [from, to), decoded, by family. */
async function rawByFamily(
  database: Queryable,
  host: { tenantId: string; hostId: string },
  from: number,
  to: number,
): Promise<Map<string, Chunk[]>> {
  const rows = await database
    .select({ family: historyRaw.family, payload: historyRaw.payload })
    .from(historyRaw)
    .where(
      and(
        eq(historyRaw.hostId, host.hostId),
        eq(historyRaw.tenantId, host.tenantId),
        gte(historyRaw.periodStart, new Date(from)),
        lt(historyRaw.periodStart, new Date(to)),
      ),
    );
  const byFamily = new Map<string, Chunk[]>();
  for (const row of rows) {
    const chunks = byFamily.get(row.family) ?? [];
    chunks.push(await decodeChunk(row.payload));
    byFamily.set(row.family, chunks);
  }
  return byFamily;
}

/** The host's chunks of one tier period (a day of 1-minute buckets, a month of 1-hour ones), by family. */
async function tierChunks(
  database: Queryable,
  table: TierTable,
  host: { tenantId: string; hostId: string },
  period: number,
): Promise<Map<string, Chunk>> {
  const rows = await database
    .select({ family: table.family, payload: table.payload })
    .from(table)
    .where(
      and(eq(table.hostId, host.hostId), eq(table.tenantId, host.tenantId), eq(table.periodStart, new Date(period))),
    );
  const out = new Map<string, Chunk>();
  for (const row of rows) out.set(row.family, await decodeChunk(row.payload));
  return out;
}

/** Writes a tier chunk whole (replacing the period's chunk of that family). */
export async function writeTierChunk(
  database: Queryable,
  table: TierTable,
  target: { tenantId: string; hostId: string; family: string; period: number },
  chunk: Chunk,
): Promise<void> {
  const { tenantId, hostId, family } = target;
  const payload = await encodeChunk(chunk);
  const pointCount = chunk.timestamps.length;
  await database
    .insert(table)
    .values({ tenantId, hostId, family, periodStart: new Date(target.period), pointCount, payload })
    .onConflictDoUpdate({ target: [table.hostId, table.family, table.periodStart], set: { pointCount, payload } });
}

/**
 * Rolls `raw` (a span's raw chunks by family) up into `bucketMs` buckets and puts them into the tier chunk of
 * `period`, replacing what that chunk held for the span.
 */
async function mergeSpan(
  database: Queryable,
  table: TierTable,
  host: { tenantId: string; hostId: string },
  raw: Map<string, Chunk[]>,
  span: { from: number; to: number; period: number },
  bucketMs: RollupBucketMs,
): Promise<void> {
  // A host with no data in the span (it was down) leaves the tier as it is, without reading it.
  if (raw.size === 0) return;
  const existing = await tierChunks(database, table, host, span.period);
  for (const [family, chunks] of raw) {
    const merged = replaceRange(existing.get(family), rollup(chunks, bucketMs), span, bucketMs);
    await writeTierChunk(database, table, { ...host, family, period: span.period }, merged);
  }
}

/**
 * Rolls one host's closed day up from its raw chunks: the day's 1-minute chunk per family (written whole, so
 * it is exactly a rollup of the day's raw points whatever the hours did before), and the day's 1-hour buckets
 * into the month's 1-hour chunk per family (the day's span replaced). Both tiers come from the raw points
 * (not 1 h from 1 min), so each equals a direct aggregation of the raw data. Idempotent; run again after a
 * late replay changed the day.
 */
export async function rollUpHostDay(database: Queryable, target: HostDay): Promise<number> {
  const { day } = target;
  const raw = await rawByFamily(database, target, day, day + DAY_MS);
  for (const [family, chunks] of raw) {
    await writeTierChunk(database, history1m, { ...target, family, period: day }, rollup(chunks, MINUTE_MS));
  }
  await mergeSpan(database, history1h, target, raw, { from: day, to: day + DAY_MS, period: monthOf(day) }, HOUR_MS);
  return raw.size;
}

/**
 * Rolls one host's closed hour up: into its day's 1-minute chunk (the hour's span replaced), so a chart of
 * today reads one 1-minute chunk per family rather than every raw hour since midnight. The day's last hour
 * closes the day instead ({@link rollUpHostDay}). The 1-hour tier takes whole days only: a chart reading it
 * reads the open day from the 1-minute chunk (query.ts). Idempotent.
 */
export async function rollUpHostHour(database: Queryable, target: HostHour): Promise<number> {
  const { hour } = target;
  const day = Math.floor(hour / DAY_MS) * DAY_MS;
  if (hour + HOUR_MS === day + DAY_MS) return rollUpHostDay(database, { ...target, day });
  const raw = await rawByFamily(database, target, hour, hour + HOUR_MS);
  await mergeSpan(database, history1m, target, raw, { from: hour, to: hour + HOUR_MS, period: day }, MINUTE_MS);
  return raw.size;
}

/** The 1-hour tier's period: a month (UTC), so a year's chart reads twelve chunks per family. */
export function monthOf(ms: number): number {
  return periodStart('month', ms);
}
