import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv } from '../../test/support.ts';
import { type Env, parseConfig } from '../env.ts';
import { openDatabase } from './client.ts';

interface ForeignKeyRow extends Record<string, unknown> {
  table_name: string;
  constraint_name: string;
  on_delete: string;
  columns: string;
}
interface IndexRow extends Record<string, unknown> {
  table_name: string;
  index_name: string;
  columns: string;
  partial: boolean;
}

/**
 * Deleting a row that others reference with ON DELETE CASCADE / SET NULL makes Postgres look up the
 * referencing rows by the foreign key's columns; without an index whose leading columns are exactly those,
 * each deleted row scans the whole referencing table (host_samples, ingest_batches…). Checked on the
 * migrated database, so a foreign key added later without its index fails here.
 */
describe('foreign keys', () => {
  let env: Env;
  beforeAll(async () => {
    env = await isolatedEnv();
  });

  it('every column a cascading or set-null delete walks has an index that starts with it', async () => {
    const handle = openDatabase(parseConfig(env));
    try {
      const keys = await handle.db.execute<ForeignKeyRow>(sql`
        SELECT c.conrelid::regclass::text AS table_name, c.conname AS constraint_name, c.confdeltype AS on_delete,
          (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns
        FROM pg_constraint c
        JOIN pg_namespace ns ON ns.oid = c.connamespace AND ns.nspname = 'public'
        WHERE c.contype = 'f' AND c.confdeltype IN ('c', 'n', 'd')`);
      const indexes = await handle.db.execute<IndexRow>(sql`
        SELECT i.indrelid::regclass::text AS table_name, i.indexrelid::regclass::text AS index_name,
          i.indpred IS NOT NULL AS partial,
          (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) AS columns
        FROM pg_index i
        JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_namespace ns ON ns.oid = t.relnamespace AND ns.nspname = 'public'`);
      expect(keys.rows.length).toBeGreaterThan(10);
      const unindexed = keys.rows.filter((key) => {
        const wanted = key.columns.split(',');
        return !indexes.rows.some((index) => {
          if (index.table_name !== key.table_name || index.partial) return false;
          const leading = index.columns.split(',').slice(0, wanted.length);
          return leading.length === wanted.length && wanted.every((column) => leading.includes(column));
        });
      });
      expect(unindexed.map((k) => `${k.table_name}(${k.columns}) ${k.constraint_name}`)).toEqual([]);
    } finally {
      await handle.close();
    }
  });
});
