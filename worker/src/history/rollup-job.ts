import { and, eq, gt, lt } from 'drizzle-orm';
import type { Queryable } from '../db/queryable.ts';
import { history1h, history1m, history15m } from '../db/schema.ts';
import { type Chunk, decodeChunk, encodeChunk } from './chunk-codec.ts';
import type { HostHour } from './compaction.ts';
import { periodStart } from './partitions.ts';
import { rawHoursByFamily } from './raw-chunks.ts';
import {
  HOUR_MS,
  MINUTE_MS,
  QUARTER_HOUR_MS,
  type RollupBucketMs,
  replaceRange,
  rerollup,
  rollup,
} from './rollup-chunk.ts';

export const DAY_MS = 24 * HOUR_MS;

export interface HostDay {
  tenantId: string;
  hostId: string;
  /** The day's start, 00:00 UTC. */
  day: number;
}

type TierTable = typeof history1m | typeof history15m | typeof history1h;

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
  await writeTierPayload(database, table, target, await encodeChunk(chunk), chunk.timestamps.length);
}

async function writeTierPayload(
  database: Queryable,
  table: TierTable,
  target: { tenantId: string; hostId: string; family: string; period: number },
  payload: Uint8Array,
  pointCount: number,
): Promise<void> {
  const { tenantId, hostId, family } = target;
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
 * The open day's 1-minute chunks: one per closed hour, and once six hours are closed, one for the six (so a
 * chart of today reads at most ~8 per family, and each hour costs the jobs about an hour's work).
 */
export const BLOCK_MS = 6 * HOUR_MS;

/**
 * Rolls one host's [from, to) up from its raw chunks into one 1-minute chunk per family, keyed by `from`, in
 * place of the tier's chunks that start inside the span (the hours' or blocks' it covers): one transaction, so
 * a chart never reads a minute twice. Returns the raw chunks read and the 1-minute chunks written (before
 * encoding, so at full precision), by family.
 */
async function rollUpSpan(
  database: Queryable,
  host: { tenantId: string; hostId: string },
  from: number,
  to: number,
): Promise<{ raw: Map<string, Chunk[]>; minutes: Map<string, Chunk> }> {
  const raw = await rawHoursByFamily(database, host, { from, to });
  const minutes = new Map<string, Chunk>();
  // A host with no data in the span (it was down) has nothing to roll up, and no chunks to replace.
  if (raw.size === 0) return { raw, minutes };
  for (const [family, hours] of raw) minutes.set(family, rollup(hours, MINUTE_MS));
  // Encoded before the transaction, so it holds its locks for the writes only.
  const chunks = await Promise.all(
    [...minutes].map(async ([family, chunk]) => ({
      family,
      payload: await encodeChunk(chunk),
      points: chunk.timestamps.length,
    })),
  );
  await database.transaction(async (tx) => {
    for (const { family, payload, points } of chunks) {
      await writeTierPayload(tx, history1m, { ...host, family, period: from }, payload, points);
    }
    await tx
      .delete(history1m)
      .where(
        and(
          eq(history1m.hostId, host.hostId),
          eq(history1m.tenantId, host.tenantId),
          gt(history1m.periodStart, new Date(from)),
          lt(history1m.periodStart, new Date(to)),
        ),
      );
  });
  return { raw, minutes };
}

/**
 * A closed day's 15-minute chunk per family, from its 1-minute buckets (min of mins, max of maxes, averages
 * weighted by counts: the same figures as from the raw points, at a tenth of the work). Replaces the day's
 * chunk whole, so doing it again gives the same chunk.
 */
export async function writeQuarterHourDay(
  database: Queryable,
  host: { tenantId: string; hostId: string },
  day: number,
  minutes: ReadonlyMap<string, Chunk>,
): Promise<void> {
  for (const [family, chunk] of minutes) {
    await writeTierChunk(database, history15m, { ...host, family, period: day }, rerollup([chunk], QUARTER_HOUR_MS));
  }
}

/**
 * Rolls one host's closed day up from its raw chunks: the day's 1-minute chunk per family (in place of the
 * open day's hour and block chunks), its 15-minute chunk per family (from those minutes), and the day's 1-hour
 * buckets into the month's 1-hour chunk per family (the day's span replaced). Each equals a direct aggregation
 * of the raw data. Idempotent; run again after a late replay changed the day.
 */
export async function rollUpHostDay(database: Queryable, target: HostDay): Promise<number> {
  const { day } = target;
  const { raw, minutes } = await rollUpSpan(database, target, day, day + DAY_MS);
  await writeQuarterHourDay(database, target, day, minutes);
  await mergeSpan(database, history1h, target, raw, { from: day, to: day + DAY_MS, period: monthOf(day) }, HOUR_MS);
  return raw.size;
}

/**
 * Rolls one host's closed hour up (the jobs call it for every hour, in order): into a 1-minute chunk of its
 * own, or, for the sixth hour of a block, into one chunk for the block ({@link BLOCK_MS}), so a chart of today
 * reads these rather than every raw hour since midnight. The day's last hour closes the day instead
 * ({@link rollUpHostDay}). The 15-minute and 1-hour tiers take whole days only: a chart reading them reads the
 * open day from the 1-minute tier (query.ts). Idempotent.
 */
export async function rollUpHostHour(database: Queryable, target: HostHour): Promise<number> {
  const { hour } = target;
  const day = Math.floor(hour / DAY_MS) * DAY_MS;
  if (hour + HOUR_MS === day + DAY_MS) return rollUpHostDay(database, { ...target, day });
  const block = Math.floor(hour / BLOCK_MS) * BLOCK_MS;
  const from = hour + HOUR_MS === block + BLOCK_MS ? block : hour;
  return (await rollUpSpan(database, target, from, hour + HOUR_MS)).raw.size;
}

/**
 * Rolls an hour up again after a late replay changed it, once the roll-ups have passed it (`rolledUntil`):
 * its whole day if the day is closed, its block if the block is, else the hour.
 */
export async function rollUpHostHourAgain(database: Queryable, target: HostHour, rolledUntil: number): Promise<number> {
  const { hour } = target;
  const day = Math.floor(hour / DAY_MS) * DAY_MS;
  if (day + DAY_MS <= rolledUntil) return rollUpHostDay(database, { ...target, day });
  const block = Math.floor(hour / BLOCK_MS) * BLOCK_MS;
  if (block + BLOCK_MS <= rolledUntil) return (await rollUpSpan(database, target, block, block + BLOCK_MS)).raw.size;
  return (await rollUpSpan(database, target, hour, hour + HOUR_MS)).raw.size;
}

/** The 1-hour tier's period: a month (UTC), so a year's chart reads twelve chunks per family. */
export function monthOf(ms: number): number {
  return periodStart('month', ms);
}
