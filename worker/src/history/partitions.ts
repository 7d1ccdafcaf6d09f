import { sql } from 'drizzle-orm';
import type { Queryable } from '../db/queryable.ts';
import { log } from '../http/logger.ts';

/**
 * The time-partitioned tables (migration 0005) and the partitions the scheduled job keeps for them: created
 * ahead of the data, dropped whole when their period is past retention. Each table also has a DEFAULT
 * partition, so an insert never fails for want of a partition; compaction and retention empty it.
 */
export type Granularity = 'hour' | 'day' | 'month';

export interface PartitionedTable {
  name: string;
  granularity: Granularity;
}

export const LANDING_TABLES: readonly PartitionedTable[] = [
  { name: 'host_samples', granularity: 'hour' },
  { name: 'custom_metric_points', granularity: 'hour' },
];
export const CHUNK_TABLES = {
  raw: { name: 'history_raw', granularity: 'day' },
  '1m': { name: 'history_1m', granularity: 'month' },
  '15m': { name: 'history_15m', granularity: 'month' },
  '1h': { name: 'history_1h', granularity: 'month' },
} as const satisfies Record<string, PartitionedTable>;
/**
 * Chunk partitions keep rows up to a heap page inline (`toast_tuple_target`, default ~2 kB): an hour's raw
 * chunk of a family is 0.1–5 kB, and out of line each paid a TOAST pointer, 2 kB pieces with their own headers
 * and index entries and half-empty TOAST pages: 31 % over the payload for the raw tier of the reference host,
 * 18 % inline (761 → 687 kB per host-day on PostgreSQL 15). Day and month chunks over 8 kB still go to TOAST.
 */
const CHUNK_STORAGE = ' WITH (toast_tuple_target = 4096)';
const CHUNK_TABLE_NAMES: ReadonlySet<string> = new Set(Object.values(CHUNK_TABLES).map((table) => table.name));

export const EVENTS_TABLE: PartitionedTable = { name: 'app_events', granularity: 'month' };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The start (UTC) of the period holding `ms`. */
export function periodStart(granularity: Granularity, ms: number): number {
  if (granularity === 'hour') return Math.floor(ms / HOUR) * HOUR;
  if (granularity === 'day') return Math.floor(ms / DAY) * DAY;
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** The start of the period after the one starting at `start`. */
export function nextPeriod(granularity: Granularity, start: number): number {
  if (granularity === 'hour') return start + HOUR;
  if (granularity === 'day') return start + DAY;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `host_samples_p2026112919`: the table and the period's start, so the name alone says what it holds. */
export function partitionName(table: PartitionedTable, start: number): string {
  const d = new Date(start);
  const day = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
  if (table.granularity === 'hour') return `${table.name}_p${day}${pad(d.getUTCHours())}`;
  if (table.granularity === 'day') return `${table.name}_p${day}`;
  return `${table.name}_p${day.slice(0, 6)}`;
}

/** The period start a partition name encodes, or null for the default partition or a name not ours. */
export function partitionStart(table: PartitionedTable, name: string): number | null {
  const match = new RegExp(`^${table.name}_p(\\d{4})(\\d{2})(\\d{2})?(\\d{2})?$`).exec(name);
  if (!match) return null;
  const [, y, m, d = '01', h = '00'] = match;
  return Date.UTC(Number(y), Number(m) - 1, Number(d), Number(h));
}

export interface Partition {
  name: string;
  start: number;
  end: number;
}

/** The table's time partitions (not its default), oldest first. */
export async function listPartitions(database: Queryable, table: PartitionedTable): Promise<Partition[]> {
  const rows = await database.execute<{ name: string }>(sql`
    SELECT c.relname AS name FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = ${table.name} AND p.relnamespace = 'public'::regnamespace`);
  return rows.rows
    .map((row) => {
      const start = partitionStart(table, row.name);
      return start === null ? null : { name: row.name, start, end: nextPeriod(table.granularity, start) };
    })
    .filter((p): p is Partition => p !== null)
    .sort((a, b) => a.start - b.start);
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Creates the partitions covering [from, to) that do not exist yet. A period whose rows already sit in the
 * default partition (data that arrived before its partition did) cannot get one — Postgres refuses rather than
 * move rows — so it is skipped: those rows stay in the default, where compaction or retention deals with them.
 * Returns the names created.
 */
export async function ensurePartitions(
  database: Queryable,
  table: PartitionedTable,
  from: number,
  to: number,
): Promise<string[]> {
  const existing = new Set((await listPartitions(database, table)).map((p) => p.name));
  const created: string[] = [];
  for (let start = periodStart(table.granularity, from); start < to; start = nextPeriod(table.granularity, start)) {
    const name = partitionName(table, start);
    if (existing.has(name)) continue;
    const end = nextPeriod(table.granularity, start);
    try {
      await database.execute(
        sql.raw(
          `CREATE TABLE IF NOT EXISTS "${name}" PARTITION OF "${table.name}" FOR VALUES FROM ('${iso(start)}') TO ('${iso(end)}')${CHUNK_TABLE_NAMES.has(table.name) ? CHUNK_STORAGE : ''}`,
        ),
      );
      created.push(name);
    } catch (error) {
      // 23514: the default partition holds rows of this period. 42P07 / 23505: another run created it first.
      const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
      if (code !== '23514' && code !== '42P07' && code !== '23505') throw error;
      if (code === '23514') log('info', 'partition skipped: its period has rows in the default', { table: name });
    }
  }
  return created;
}

/** Drops the table's partitions that end at or before `cutoff` and that `keep` (when given) does not keep. */
export async function dropPartitionsBefore(
  database: Queryable,
  table: PartitionedTable,
  cutoff: number,
  keep: (partition: Partition) => boolean = () => false,
): Promise<string[]> {
  const dropped: string[] = [];
  for (const partition of await listPartitions(database, table)) {
    if (partition.end > cutoff || keep(partition)) continue;
    await database.execute(sql.raw(`DROP TABLE IF EXISTS "${partition.name}"`));
    dropped.push(partition.name);
  }
  return dropped;
}
