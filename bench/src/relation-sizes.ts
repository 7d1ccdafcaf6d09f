import type { SqlSession } from '@pulsewire/stack';

/** Postgres' own figures for one table (a partition, or a plain table), in bytes. */
export interface RelationSize {
  relation: string;
  /** pg_total_relation_size: everything below. */
  total: number;
  /** The heap's main fork (the rows, or what of them is not in TOAST). */
  heap: number;
  /** The TOAST table with its index and maps. */
  toast: number;
  /** Every index, all forks. */
  indexes: number;
  /** The heap's free-space and visibility maps (fixed per table once vacuumed: 24–32 kB). */
  maps: number;
}

export interface SizeTotals extends Omit<RelationSize, 'relation'> {
  relations: number;
}

/**
 * The sizes of a partitioned table's partitions (the default one included), or of a plain table: what
 * Postgres stores for it, indexes and TOAST included. The parent of a partitioned table stores nothing.
 */
export async function relationSizes(session: SqlSession, table: string): Promise<RelationSize[]> {
  const { rows } = await session.client.query<Record<keyof RelationSize, string>>(
    `WITH rels AS (
       SELECT c.oid, c.relname, c.reltoastrelid FROM pg_class c
       WHERE c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = $1::regclass)
          OR (c.oid = $1::regclass AND c.relkind = 'r'))
     SELECT relname AS relation,
       pg_total_relation_size(oid)::text AS total,
       pg_relation_size(oid)::text AS heap,
       (CASE WHEN reltoastrelid = 0 THEN 0 ELSE pg_total_relation_size(reltoastrelid) END)::text AS toast,
       pg_indexes_size(oid)::text AS indexes
     FROM rels ORDER BY relname`,
    [table],
  );
  return rows.map((row) => {
    const [total, heap, toast, indexes] = [row.total, row.heap, row.toast, row.indexes].map(Number) as [
      number,
      number,
      number,
      number,
    ];
    return { relation: row.relation, total, heap, toast, indexes, maps: total - heap - toast - indexes };
  });
}

export function sumSizes(sizes: readonly RelationSize[]): SizeTotals {
  const totals: SizeTotals = { total: 0, heap: 0, toast: 0, indexes: 0, maps: 0, relations: sizes.length };
  for (const size of sizes) {
    totals.total += size.total;
    totals.heap += size.heap;
    totals.toast += size.toast;
    totals.indexes += size.indexes;
    totals.maps += size.maps;
  }
  return totals;
}

/** VACUUM (ANALYZE) the tables, as autovacuum would in steady state: maps exist, the planner knows the rows. */
export async function vacuum(session: SqlSession, tables: readonly string[]): Promise<void> {
  for (const table of tables) await session.client.query(`VACUUM (ANALYZE) "${table}"`);
}

/** The chunks a tier holds: rows and their payload bytes (what the codec produced, before Postgres' overhead). */
export async function payloadBytes(session: SqlSession, table: string): Promise<{ rows: number; bytes: number }> {
  const { rows } = await session.client.query<{ rows: string; bytes: string | null }>(
    `SELECT count(*)::text AS rows, sum(octet_length(payload))::text AS bytes FROM "${table}"`,
  );
  return { rows: Number(rows[0]?.rows ?? 0), bytes: Number(rows[0]?.bytes ?? 0) };
}

/** A tier's payload bytes by family, largest first. */
export async function payloadByFamily(session: SqlSession, table: string): Promise<Record<string, number>> {
  const { rows } = await session.client.query<{ family: string; bytes: string }>(
    `SELECT family, sum(octet_length(payload))::text AS bytes FROM "${table}" GROUP BY family ORDER BY sum(octet_length(payload)) DESC`,
  );
  return Object.fromEntries(rows.map((row) => [row.family, Number(row.bytes)]));
}
