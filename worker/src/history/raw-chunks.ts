import { and, asc, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../db/queryable.ts';
import { historyRaw } from '../db/schema.ts';
import { type Chunk, type DecodeOptions, decodeChunk } from './chunk-codec.ts';
import { withinRange } from './rollup-chunk.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** `period_hours` of a raw chunk: an hour's while its day is open, the whole day's once folded (raw-days.ts). */
export const HOUR_CHUNK_HOURS = 1;
export const DAY_CHUNK_HOURS = 24;

/** A raw chunk as stored, not decoded. */
export interface RawChunkRow {
  family: string;
  periodStart: number;
  periodHours: number;
  payload: Uint8Array;
}

const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
const ceilHour = (ms: number) => Math.ceil(ms / HOUR_MS) * HOUR_MS;

/**
 * Which of `history_raw`'s rows hold an hour of one host's `families` (or all) overlapping [from, to): the
 * hours' chunks, and a closed day's chunk, which starts at 00:00 and so may start before `from`. No raw chunk
 * crosses midnight, so none starts before the day of `from`: that bound keeps the read on the key's range.
 */
export function rawChunkCondition(
  host: { tenantId: string; hostId: string },
  span: { from: number; to: number },
  families?: readonly string[],
): SQL | undefined {
  return and(
    eq(historyRaw.hostId, host.hostId),
    eq(historyRaw.tenantId, host.tenantId),
    families ? inArray(historyRaw.family, [...families]) : undefined,
    gte(historyRaw.periodStart, new Date(Math.floor(span.from / DAY_MS) * DAY_MS)),
    lt(historyRaw.periodStart, new Date(span.to)),
    sql`${historyRaw.periodStart} + make_interval(hours => ${historyRaw.periodHours}) > ${new Date(floorHour(span.from)).toISOString()}::timestamptz`,
  );
}

/**
 * One host's raw chunks (of `families`, or all) that hold any hour overlapping [from, to), oldest first: the
 * hours' chunks, and a closed day's chunk, which starts at 00:00 and so may start before `from`. No raw chunk
 * crosses midnight, so none starts before the day of `from`: that bound keeps the read on the key's range.
 */
export async function rawChunkRows(
  database: Queryable,
  host: { tenantId: string; hostId: string },
  span: { from: number; to: number },
  families?: readonly string[],
): Promise<RawChunkRow[]> {
  if (span.from >= span.to || families?.length === 0) return [];
  const rows = await database
    .select({
      family: historyRaw.family,
      periodStart: historyRaw.periodStart,
      periodHours: historyRaw.periodHours,
      payload: historyRaw.payload,
    })
    .from(historyRaw)
    .where(rawChunkCondition(host, span, families))
    .orderBy(asc(historyRaw.periodStart));
  return rows.map((row) => ({ ...row, periodStart: row.periodStart.getTime() }));
}

/**
 * A raw chunk's points in the hours overlapping [from, to), decoded (`options.columns`: only those): what the
 * hours' own chunks held, whether the hours are still chunks of their own or folded into their day's.
 */
export async function decodeRawHours(
  row: Pick<RawChunkRow, 'periodHours' | 'payload'>,
  span: { from: number; to: number },
  options: DecodeOptions = {},
): Promise<Chunk> {
  const chunk = await decodeChunk(row.payload, options);
  if (row.periodHours === HOUR_CHUNK_HOURS) return chunk;
  return withinRange(chunk, floorHour(span.from), ceilHour(span.to));
}

/** One host's raw points in the hours overlapping [from, to), a decoded chunk per stored chunk, by family. */
export async function rawHoursByFamily(
  database: Queryable,
  host: { tenantId: string; hostId: string },
  span: { from: number; to: number },
): Promise<Map<string, Chunk[]>> {
  const byFamily = new Map<string, Chunk[]>();
  for (const row of await rawChunkRows(database, host, span)) {
    const chunk = await decodeRawHours(row, span);
    if (chunk.timestamps.length === 0) continue;
    byFamily.set(row.family, [...(byFamily.get(row.family) ?? []), chunk]);
  }
  return byFamily;
}

/** Writes one raw chunk, replacing the one at its key (host, family, period start). */
export async function upsertRawChunk(
  database: Queryable,
  host: { tenantId: string; hostId: string },
  chunk: RawChunkRow & { pointCount: number },
): Promise<void> {
  const { family, periodHours, payload, pointCount } = chunk;
  await database
    .insert(historyRaw)
    .values({
      tenantId: host.tenantId,
      hostId: host.hostId,
      family,
      periodStart: new Date(chunk.periodStart),
      periodHours,
      pointCount,
      payload,
    })
    .onConflictDoUpdate({
      target: [historyRaw.hostId, historyRaw.family, historyRaw.periodStart],
      set: { periodHours, pointCount, payload },
    });
}
