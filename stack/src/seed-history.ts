/**
 * `pnpm seed:history [--days 30] [--host <name>]`: fills the local stack (`pnpm dev`, running) with N days of
 * realistic 10 s history for the demo account's host (or the host named), so that long ranges, roll-ups and
 * export can be tried at once. It writes what compaction and roll-ups would have written — raw chunks per
 * hour, 1-minute chunks per day and 1-hour chunks per month — with the Worker's own code, straight into the
 * database, for the days before what the stack already holds; the real agent's data is left as it is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Queryable } from '../../worker/src/db/queryable.ts';
import { DEMO_EMAIL } from './demo.ts';
import { seedBounds, seedHistory } from './history-seed.ts';
import { REPO_ROOT } from './worker-process.ts';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '30' },
    host: { type: 'string' },
    seed: { type: 'string', default: '1' },
  },
});
const days = Number(values.days);
if (!Number.isInteger(days) || days < 1 || days > 730) {
  console.error('--days must be a whole number of days from 1 to 730');
  process.exit(2);
}

const statePath = path.join(REPO_ROOT, '.data', 'dev-stack.json');
if (!fs.existsSync(statePath)) {
  console.error('✖ the local stack is not running: start it with `pnpm dev`, then run this again.');
  process.exit(1);
}
const stack = JSON.parse(fs.readFileSync(statePath, 'utf8')) as { url: string; databaseUrl: string };

// The jobs first, so that the watermarks say where the stack's own history starts.
const jobs = await fetch(`${stack.url}/api/v1/dev/jobs/run`, { method: 'POST' }).catch(() => null);
if (!jobs?.ok) {
  console.error(`✖ ${stack.url} did not run its jobs (${jobs?.status ?? 'unreachable'}); is \`pnpm dev\` running?`);
  process.exit(1);
}

const client = new pg.Client({ connectionString: stack.databaseUrl });
await client.connect();
const database = drizzle({ client }) as unknown as Queryable;
try {
  const found = await client.query<{ id: string; tenant_id: string; name: string }>(
    values.host
      ? 'SELECT id, tenant_id, name FROM hosts WHERE name = $1 AND deleted_at IS NULL ORDER BY created_at LIMIT 1'
      : `SELECT h.id, h.tenant_id, h.name FROM hosts h
         JOIN memberships m ON m.tenant_id = h.tenant_id JOIN users u ON u.id = m.user_id
         WHERE u.email = $1 AND h.deleted_at IS NULL ORDER BY h.created_at LIMIT 1`,
    [values.host ?? DEMO_EMAIL],
  );
  const host = found.rows[0];
  if (!host) {
    console.error(values.host ? `✖ no host named ${values.host}` : '✖ the demo account has no host yet');
    process.exit(1);
  }
  const { start, end, rolledFrom } = await seedBounds((sql) => client.query(sql), days);
  console.log(`› seeding ${host.name}: ${new Date(start).toISOString()} → ${new Date(end).toISOString()} at 10 s`);
  const begun = Date.now();
  await seedHistory(database, {
    tenantId: host.tenant_id,
    hostId: host.id,
    start,
    end,
    rolledFrom,
    seed: Number(values.seed),
    onDay: (day) => process.stdout.write(`  ${new Date(day).toISOString().slice(0, 10)} ✓\n`),
  });
  console.log(`✓ ${days} days seeded in ${((Date.now() - begun) / 1000).toFixed(1)} s. Open the host and pick 30 d.`);
} finally {
  await client.end();
}
