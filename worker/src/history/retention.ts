import { sql } from 'drizzle-orm';
import type { Queryable } from '../db/queryable.ts';
import {
  CHUNK_TABLES,
  dropPartitionsBefore,
  EVENTS_TABLE,
  LANDING_TABLES,
  type PartitionedTable,
} from './partitions.ts';

const DAY_MS = 24 * 3_600_000;

/**
 * How long each kind of data is kept, in days, unless an organisation lowers its history tiers
 * (`tenants.retention_*_days`). The README's "Retention" table quotes these.
 */
export const DEFAULT_RETENTION_DAYS = {
  /** Raw points: every 10 s sample, and 1 s samples from live periods. */
  raw: 30,
  '1m': 90,
  '1h': 730,
  /** Application events (job started, progress, completed, failed). */
  events: 90,
  /** Resolved alerts; an open alert is kept however old. */
  alerts: 400,
  /** The notification delivery log. */
  deliveries: 30,
  /**
   * The ingest dedup table (batch ids). Longer than any replay an agent makes in practice: its spool holds
   * batches through an outage of days; a batch replayed after this is still stored once per (host, time),
   * since compaction merges by timestamp.
   */
  dedup: 8,
} as const;

/**
 * Landing partitions outlive their compaction by this much: the live view's fill and a host's latest figures
 * read recent landing rows. (A late batch needs none of them: compaction merges it into the hour's chunks.)
 */
export const LANDING_KEEP_MS = 3_600_000;

/** Rows one bounded delete removes, and such deletes one run issues per table at most. */
const DELETE_CHUNK = 5_000;
const MAX_DELETES_PER_TABLE = 20;

export interface RetentionReport {
  partitionsDropped: string[];
  rowsDeleted: number;
}

/** Repeats `statement` (which deletes at most DELETE_CHUNK rows and returns them) until it deletes fewer. */
async function boundedDelete(database: Queryable, statement: () => ReturnType<typeof sql>): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_DELETES_PER_TABLE; i++) {
    const result = await database.execute(statement());
    const count = result.rowCount ?? result.rows.length;
    total += count;
    if (count < DELETE_CHUNK) break;
  }
  return total;
}

const isoCutoff = (ms: number) => new Date(ms).toISOString();

/**
 * Drops what is past retention: whole partitions for the time-partitioned tables (landing hours once
 * compacted, chunk tiers, events), bounded deletes for rows that strayed into a default partition, for the
 * organisations that lowered their retention, and for the small mutable tables (alerts, deliveries, dedup),
 * whose unique keys cannot include a time (docs/decisions.md, "History storage").
 */
export async function applyRetention(
  database: Queryable,
  now: number,
  compactedUntil: number,
): Promise<RetentionReport> {
  const dropped: string[] = [];
  const landingCutoff = Math.min(now - LANDING_KEEP_MS, compactedUntil);
  for (const table of LANDING_TABLES) dropped.push(...(await dropPartitionsBefore(database, table, landingCutoff)));

  let rows = 0;
  // Each tier with where one of its chunks ends: a chunk goes once all of it is past retention (a raw chunk
  // is an hour, or a folded day).
  const tiers: [PartitionedTable, number, string, string][] = [
    [CHUNK_TABLES.raw, DEFAULT_RETENTION_DAYS.raw, 'retention_raw_days', 'make_interval(hours => period_hours)'],
    [CHUNK_TABLES['1m'], DEFAULT_RETENTION_DAYS['1m'], 'retention_1m_days', "interval '1 day'"],
    // The 15-minute tier is kept as long as the 1-minute one (and lowered with it): it only serves week-long
    // charts faster, so it needs no setting of its own.
    [CHUNK_TABLES['15m'], DEFAULT_RETENTION_DAYS['1m'], 'retention_1m_days', "interval '1 day'"],
    [CHUNK_TABLES['1h'], DEFAULT_RETENTION_DAYS['1h'], 'retention_1h_days', "interval '1 month'"],
  ];
  for (const [table, days, column, span] of tiers) {
    const chunkEnd = sql.raw(`period_start + ${span}`);
    const cutoff = now - days * DAY_MS;
    dropped.push(...(await dropPartitionsBefore(database, table, cutoff)));
    rows += await boundedDelete(
      database,
      () => sql`DELETE FROM ${sql.raw(`"${table.name}_default"`)} WHERE (host_id, family, period_start) IN (
        SELECT host_id, family, period_start FROM ${sql.raw(`"${table.name}_default"`)}
        WHERE ${chunkEnd} <= ${isoCutoff(cutoff)} LIMIT ${DELETE_CHUNK}) RETURNING 1`,
    );
    // Organisations that keep less: their chunks go row by row (a chunk is an hour, a day or a month of a
    // family, so this is a few hundred rows per host), found through the host key.
    rows += await boundedDelete(
      database,
      () => sql`DELETE FROM ${sql.raw(`"${table.name}"`)} WHERE (host_id, family, period_start) IN (
        SELECT c.host_id, c.family, c.period_start FROM tenants t
        JOIN hosts h ON h.tenant_id = t.id
        JOIN ${sql.raw(`"${table.name}"`)} c ON c.host_id = h.id
          AND c.${chunkEnd} <= ${isoCutoff(now)}::timestamptz - make_interval(days => t.${sql.raw(column)})
        WHERE t.${sql.raw(column)} IS NOT NULL AND t.${sql.raw(column)} < ${days}
        LIMIT ${DELETE_CHUNK}) RETURNING 1`,
    );
  }

  const eventsCutoff = now - DEFAULT_RETENTION_DAYS.events * DAY_MS;
  dropped.push(...(await dropPartitionsBefore(database, EVENTS_TABLE, eventsCutoff)));
  rows += await boundedDelete(
    database,
    () => sql`DELETE FROM app_events_default WHERE id IN (
      SELECT id FROM app_events_default WHERE ts < ${isoCutoff(eventsCutoff)} LIMIT ${DELETE_CHUNK}) RETURNING 1`,
  );
  const alertsCutoff = isoCutoff(now - DEFAULT_RETENTION_DAYS.alerts * DAY_MS);
  rows += await boundedDelete(
    database,
    () => sql`DELETE FROM alert_events WHERE id IN (
      SELECT id FROM alert_events WHERE state = 'resolved' AND resolved_at < ${alertsCutoff} LIMIT ${DELETE_CHUNK})
      RETURNING 1`,
  );
  const deliveriesCutoff = isoCutoff(now - DEFAULT_RETENTION_DAYS.deliveries * DAY_MS);
  rows += await boundedDelete(
    database,
    () => sql`DELETE FROM notification_deliveries WHERE id IN (
      SELECT id FROM notification_deliveries WHERE created_at < ${deliveriesCutoff} LIMIT ${DELETE_CHUNK})
      RETURNING 1`,
  );
  const dedupCutoff = isoCutoff(now - DEFAULT_RETENTION_DAYS.dedup * DAY_MS);
  rows += await boundedDelete(
    database,
    () => sql`DELETE FROM ingest_batches WHERE (host_id, batch_id) IN (
      SELECT host_id, batch_id FROM ingest_batches WHERE received_at < ${dedupCutoff} LIMIT ${DELETE_CHUNK})
      RETURNING 1`,
  );
  return { partitionsDropped: dropped, rowsDeleted: rows };
}
