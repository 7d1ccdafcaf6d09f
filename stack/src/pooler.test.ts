import { describe, expect, it } from 'vitest';
import { startLocalDatabase } from './database.ts';
import { findPgbouncer, pgbouncerConfig, startPooler } from './pooler.ts';
import { openSqlSession, reachable, startServerScratch } from './scratch-database.ts';

describe('the local pooler (PgBouncer in transaction mode)', () => {
  it('logs every database in as the URL user, in transaction mode, on loopback only', () => {
    const config = pgbouncerConfig(new URL('postgres://pw:s3cret@127.0.0.1:5433/any'), 6543, '/tmp/x');
    expect(config).toContain('* = host=127.0.0.1 port=5433 user=pw password=s3cret');
    expect(config).toContain('pool_mode = transaction');
    expect(config).toContain('listen_addr = 127.0.0.1');
    expect(config).toContain('listen_port = 6543');
    expect(config).toContain('logfile = /tmp/x/pgbouncer.log');
  });

  // Needs the PostgreSQL server (CI's second run gives DATABASE_URL) and Debian's pgbouncer.
  it.skipIf(!process.env.DATABASE_URL || !findPgbouncer())(
    'keeps one server backend for successive client connections, and runs parameterised statements',
    async () => {
      const pooler = await startPooler(process.env.DATABASE_URL as string);
      const backendOfNewConnection = async () => {
        const session = await openSqlSession(pooler.url);
        try {
          // A parameter makes node-pg use the extended protocol with an unnamed statement, as the Worker's driver does.
          const { rows } = await session.client.query<{ pid: number; n: number }>(
            'SELECT pg_backend_pid() AS pid, $1::int + 1 AS n',
            [41],
          );
          expect(rows[0]?.n).toBe(42);
          return rows[0]?.pid;
        } finally {
          await session.end();
        }
      };
      try {
        expect(pooler.version).toMatch(/^PgBouncer \d/);
        const first = await backendOfNewConnection();
        expect(await backendOfNewConnection()).toBe(first);
      } finally {
        await pooler.stop();
      }
      expect(await reachable(pooler.url)).toBe(false);
    },
  );

  it.skipIf(!process.env.DATABASE_URL || !findPgbouncer())(
    "puts the pooler between the Worker's URL and the server when asked, and stops it with the database",
    async () => {
      // A scratch database: startLocalDatabase migrates what it is given.
      const scratch = await startServerScratch(process.env.DATABASE_URL as string, 'pw_pooler_test');
      const serverUrl = scratch.url;
      const database = await startLocalDatabase({ databaseUrl: serverUrl, pooled: true }).catch(async (error) => {
        await scratch.stop();
        throw error;
      });
      const workerUrl = database.databaseUrl;
      try {
        expect(database.directUrl).toBe(serverUrl);
        expect(new URL(workerUrl).port).toBe(new URL(database.pooler?.url ?? '').port);
        expect(new URL(workerUrl).pathname).toBe(new URL(serverUrl).pathname);
        const session = await openSqlSession(workerUrl);
        try {
          const { rows } = await session.client.query<{ db: string }>('SELECT current_database() AS db');
          expect(rows[0]?.db).toBe(new URL(serverUrl).pathname.slice(1));
        } finally {
          await session.end();
        }
      } finally {
        await database.stop();
        await scratch.stop();
      }
      expect(await reachable(workerUrl)).toBe(false);
    },
  );
});
