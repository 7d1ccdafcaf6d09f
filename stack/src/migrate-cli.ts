/**
 * `pnpm db:migrate`: applies /drizzle to DATABASE_URL (Neon or any Postgres), or, when it is
 * unset, to the embedded database in .data/postgres (stop `pnpm dev` first: PGlite has one owner).
 */
import path from 'node:path';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { migrateDatabase } from './migrate.ts';
import { REPO_ROOT } from './worker-process.ts';

const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl) {
  await migrateDatabase(databaseUrl);
  console.log(`✔ migrations applied to ${new URL(databaseUrl).host}`);
} else {
  const dataDir = path.join(REPO_ROOT, '.data/postgres');
  const embedded = await startEmbeddedPostgres({ dataDir });
  try {
    await migrateDatabase(embedded.url);
  } finally {
    await embedded.stop();
  }
  console.log(`✔ migrations applied to the embedded database in ${path.relative(process.cwd(), dataDir)}`);
}
