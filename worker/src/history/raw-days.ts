import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { Queryable } from '../db/queryable.ts';
import { historyRaw } from '../db/schema.ts';
import { decodeChunk, encodeChunk } from './chunk-codec.ts';
import { chunkOf, type FamilyPoints, putChunk } from './compaction.ts';
import { CHUNK_TABLES, listPartitions, partitionName } from './partitions.ts';
import { DAY_CHUNK_HOURS, rawChunkRows, upsertRawChunk } from './raw-chunks.ts';
import { DAY_MS, type HostDay } from './rollup-job.ts';

/**
 * Folds one host's closed day (compacted and rolled up) from its hours' raw chunks into one chunk per family,
 * keyed at the day's start with `period_hours` 24, in one transaction, so a reader sees either the hours or
 * the day, never both. Why: an hour's chunk is ~2 kB, and Postgres charges each row a tuple header, an index
 * entry and its share of half-filled pages (139 kB a day over 580 kB of payload for the reference host); a
 * day's chunk is one row per family, stored out of line in full TOAST pages, and one deflate stream over the
 * day compresses better than 24 (507 kB). The 1-minute tier keeps a chunk per day for the same reason. Later replays into the day go into these chunks (compactHostHour). Idempotent: a day already folded
 * is left as it is. Returns the hour chunks folded.
 */
export async function foldHostDay(database: Queryable, target: HostDay): Promise<number> {
  const { tenantId, hostId, day } = target;
  const rows = await rawChunkRows(database, target, { from: day, to: day + DAY_MS });
  if (rows.every((row) => row.periodHours === DAY_CHUNK_HOURS)) return 0;
  const points: FamilyPoints = new Map();
  // Oldest first: should a day's chunk and an hour's both hold a time, the hour's (written later) wins.
  for (const row of rows) putChunk(points, await decodeChunk(row.payload));
  // Encoded before the transaction, so it holds its locks for the writes only.
  const chunks = await Promise.all(
    [...points].map(async ([family, byTs]) => ({
      family,
      periodStart: day,
      periodHours: DAY_CHUNK_HOURS,
      pointCount: byTs.size,
      payload: await encodeChunk(chunkOf(byTs)),
    })),
  );
  await database.transaction(async (tx) => {
    for (const chunk of chunks) await upsertRawChunk(tx, { tenantId, hostId }, chunk);
    await tx
      .delete(historyRaw)
      .where(
        and(
          eq(historyRaw.hostId, hostId),
          eq(historyRaw.tenantId, tenantId),
          gt(historyRaw.periodStart, new Date(day)),
          lt(historyRaw.periodStart, new Date(day + DAY_MS)),
        ),
      );
  });
  return rows.filter((row) => row.periodHours !== DAY_CHUNK_HOURS).length;
}

/**
 * Rewrites a closed day's raw partition (heap, TOAST and index) once every host's hours in it are folded: its
 * rows copied aside, the partition truncated and the rows put back, in one transaction. The folds deleted the
 * hours' chunks, and no later insert fills their pages (a closed day takes only the rare late replay, into its
 * day chunks), so without the rewrite the partition kept their size until retention dropped it: 1.26 MB per
 * reference host-day on PostgreSQL 15 instead of ~0.55. Not VACUUM FULL: that keeps every deleted row some
 * open snapshot might still see (an autovacuum ANALYZE elsewhere in the database is enough), and then shrinks
 * nothing; the copy takes only the rows live now. The rewrite locks that one partition (a closed day's: raw
 * charts and exports of that day wait) for as long as the copy takes, once a day. A day without a partition
 * (its rows in the default) is left as it is.
 */
export async function compactDayPartition(database: Queryable, day: number): Promise<void> {
  const name = partitionName(CHUNK_TABLES.raw, day);
  const partitions = await listPartitions(database, CHUNK_TABLES.raw);
  if (!partitions.some((partition) => partition.name === name)) return;
  await database.transaction(async (tx) => {
    // Locked before the copy, so no row can change between the copy and the truncation (a host's purge).
    await tx.execute(sql.raw(`LOCK TABLE "${name}" IN ACCESS EXCLUSIVE MODE`));
    await tx.execute(sql.raw(`CREATE TEMP TABLE folded_day ON COMMIT DROP AS SELECT * FROM "${name}"`));
    await tx.execute(sql.raw(`TRUNCATE "${name}"`));
    await tx.execute(sql.raw(`INSERT INTO "${name}" SELECT * FROM folded_day`));
  });
}
