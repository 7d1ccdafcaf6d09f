import net from 'node:net';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { migrateDatabase } from './migrate.ts';

/**
 * Throw-away, migrated databases for measurements that need Postgres' own figures (the storage and history
 * benchmarks): the embedded PGlite in memory, or a database created on a PostgreSQL server and dropped after.
 */
export interface ScratchDatabase {
  /** `PGlite (Postgres 18.6)` or `PostgreSQL 15.20`: what the figures were measured on. */
  label: string;
  kind: 'pglite' | 'postgres';
  url: string;
  stop(): Promise<void>;
}

/** A client on one database, with drizzle over it (what the Worker's history modules take, as `Queryable`). */
export interface SqlSession {
  client: pg.Client;
  db: NodePgDatabase;
  end(): Promise<void>;
}

export async function openSqlSession(url: string): Promise<SqlSession> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // Notices ("partition … skipped", "… does not exist, skipping") are not the measurement's business.
  client.on('notice', () => {});
  return { client, db: drizzle({ client }), end: () => client.end() };
}

async function serverVersion(url: string): Promise<string> {
  const session = await openSqlSession(url);
  try {
    const { rows } = await session.client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return (rows[0]?.v ?? '?').split(' ')[0] as string;
  } finally {
    await session.end();
  }
}

export async function startPgliteScratch(): Promise<ScratchDatabase> {
  const embedded = await startEmbeddedPostgres();
  try {
    await migrateDatabase(embedded.url);
    return {
      label: `PGlite (Postgres ${await serverVersion(embedded.url)})`,
      kind: 'pglite',
      url: embedded.url,
      stop: embedded.stop,
    };
  } catch (error) {
    await embedded.stop();
    throw error;
  }
}

/** A fresh database `<prefix>_<pid>_<time>` on the server at `serverUrl`, migrated; `stop` drops it. */
export async function startServerScratch(serverUrl: string, prefix = 'pw_scratch'): Promise<ScratchDatabase> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  admin.on('notice', () => {});
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const drop = async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await admin.end();
  };
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    await migrateDatabase(url.toString());
    return {
      label: `PostgreSQL ${await serverVersion(url.toString())}`,
      kind: 'postgres',
      url: url.toString(),
      stop: drop,
    };
  } catch (error) {
    await drop();
    throw error;
  }
}

/** Whether a TCP connection to the URL's host and port opens within `timeoutMs`. */
export function reachable(databaseUrl: string, timeoutMs = 1000): Promise<boolean> {
  const url = new URL(databaseUrl);
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 5432) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
