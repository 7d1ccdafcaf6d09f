import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startLocalDatabase } from './database.ts';
import { migrateDatabase } from './migrate.ts';

async function tables(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'public' order by 1",
    );
    return rows.map((r) => r.table_name);
  } finally {
    await client.end();
  }
}

describe('embedded local database', () => {
  it('migrates, persists across restarts, and re-migrating is a no-op', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pulsewire-db-'));
    try {
      const first = await startLocalDatabase({ dataDir });
      expect(first.kind).toBe('embedded');
      expect(first.relayAddress).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(await tables(first.databaseUrl)).toEqual(
        expect.arrayContaining(['tenants', 'users', 'memberships', 'sessions', 'api_keys', 'hosts', 'host_samples']),
      );
      const client = new pg.Client({ connectionString: first.databaseUrl });
      await client.connect();
      await client.query("insert into tenants (name, slug) values ('Persisted', 'persisted')");
      await client.end();
      await first.stop();

      const second = await startLocalDatabase({ dataDir });
      try {
        await migrateDatabase(second.databaseUrl);
        const check = new pg.Client({ connectionString: second.databaseUrl });
        await check.connect();
        const { rows } = await check.query('select name from tenants');
        await check.end();
        expect(rows).toEqual([{ name: 'Persisted' }]);
      } finally {
        await second.stop();
      }
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it('serves many concurrent connections', async () => {
    const db = await startLocalDatabase();
    try {
      const clients = Array.from({ length: 20 }, () => new pg.Client({ connectionString: db.databaseUrl }));
      await Promise.all(clients.map((c) => c.connect()));
      const results = await Promise.all(clients.map((c, i) => c.query('select $1::int as n', [i])));
      expect(results.map((r) => r.rows[0].n)).toEqual(clients.map((_, i) => i));
      await Promise.all(clients.map((c) => c.end()));
    } finally {
      await db.stop();
    }
  });
});
