import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { defaultAlertingRows } from '../../worker/src/alerts/defaults.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { MIGRATIONS_FOLDER, migrateDatabase } from './migrate.ts';

const ALERTING_TAG = '0003_alerting';

/** A copy of /drizzle holding only the migrations before `tag`: the schema an existing deployment has. */
async function migrationsBefore(tag: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pulsewire-migrations-'));
  const journal = JSON.parse(await fs.readFile(path.join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as {
    entries: { idx: number; tag: string }[];
  };
  const cut = journal.entries.findIndex((e) => e.tag === tag);
  expect(cut).toBeGreaterThan(0);
  const entries = journal.entries.slice(0, cut);
  await fs.mkdir(path.join(dir, 'meta'));
  await fs.writeFile(path.join(dir, 'meta/_journal.json'), JSON.stringify({ ...journal, entries }));
  for (const e of entries)
    await fs.copyFile(path.join(MIGRATIONS_FOLDER, `${e.tag}.sql`), path.join(dir, `${e.tag}.sql`));
  return dir;
}

describe('alerting migration', () => {
  it('gives every existing organisation exactly the defaults a new one gets', async () => {
    const db = await startEmbeddedPostgres();
    const older = await migrationsBefore(ALERTING_TAG);
    const client = new pg.Client({ connectionString: db.url });
    try {
      await client.connect();
      client.on('notice', () => {});
      await migrate(drizzle({ client }), { migrationsFolder: older });
      const { rows } = await client.query<{ id: string }>(
        "insert into tenants (name, slug) values ('Before', 'before'), ('Also before', 'also-before') returning id",
      );
      // A rule in the old shape, which the migration clears (no release ever wrote one).
      await client.query("insert into alert_rules (tenant_id, name, metric) values ($1, 'old', 'cpu.total')", [
        rows[0]?.id,
      ]);
      await client.end();

      await migrateDatabase(db.url);

      const check = new pg.Client({ connectionString: db.url });
      await check.connect();
      try {
        for (const { id } of rows) {
          const expected = defaultAlertingRows(id);
          const rules = await check.query(
            'select name, enabled, kind, spec, built_in from alert_rules where tenant_id = $1 order by name',
            [id],
          );
          expect(rules.rows).toEqual(
            expected.rules
              .map((r) => ({ name: r.name, enabled: r.enabled, kind: r.kind, spec: r.spec, built_in: true }))
              .sort((a, b) => (a.name < b.name ? -1 : 1)),
          );
          const channels = await check.query(
            `select type, name, config, min_level, enabled, quiet_hours, hourly_budget, built_in
             from notification_channels where tenant_id = $1`,
            [id],
          );
          const c = expected.channel;
          expect(channels.rows).toEqual([
            {
              type: c.type,
              name: c.name,
              config: c.config,
              min_level: c.minLevel,
              enabled: c.enabled,
              quiet_hours: c.quietHours,
              hourly_budget: c.hourlyBudget,
              built_in: true,
            },
          ]);
        }
      } finally {
        await check.end();
      }
    } finally {
      await db.stop();
      await fs.rm(older, { recursive: true, force: true });
    }
  });
});
