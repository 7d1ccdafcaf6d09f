import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from './ports.ts';
import { openSqlSession, reachable, startPgliteScratch, startServerScratch } from './scratch-database.ts';

describe('scratch databases', () => {
  it('tells a listening server from a closed port', async () => {
    const server = net.createServer((socket) => socket.destroy());
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
    );
    try {
      expect(await reachable(`postgres://postgres@127.0.0.1:${port}/test`)).toBe(true);
    } finally {
      server.close();
    }
    expect(await reachable(`postgres://postgres@127.0.0.1:${await freePort()}/test`)).toBe(false);
  });

  it('starts a migrated PGlite, labelled with its Postgres version', async () => {
    const database = await startPgliteScratch();
    try {
      expect(database.kind).toBe('pglite');
      expect(database.label).toMatch(/^PGlite \(Postgres \d+\.\d+\)$/);
      const session = await openSqlSession(database.url);
      try {
        const { rows } = await session.client.query<{ name: string }>(
          "SELECT to_regclass('history_raw')::text AS name",
        );
        expect(rows[0]?.name).toBe('history_raw');
      } finally {
        await session.end();
      }
    } finally {
      await database.stop();
    }
  });

  // CI's second run (and anyone) gives a server through DATABASE_URL.
  it.skipIf(!process.env.DATABASE_URL)('creates a database on the server and drops it when stopped', async () => {
    const serverUrl = process.env.DATABASE_URL as string;
    const database = await startServerScratch(serverUrl, 'pw_scratch_test');
    const name = new URL(database.url).pathname.slice(1);
    const admin = await openSqlSession(serverUrl);
    try {
      expect(database.label).toMatch(/^PostgreSQL \d+/);
      const exists = async () =>
        (await admin.client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
      expect(await exists()).toBe(true);
      await database.stop();
      expect(await exists()).toBe(false);
    } finally {
      await admin.end();
    }
  });
});
