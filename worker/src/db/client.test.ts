import { eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { signedUpClient } from '../../test/client.ts';
import { isolatedEnv } from '../../test/support.ts';
import { type Env, parseConfig } from '../env.ts';
import { openDatabase } from './client.ts';
import { tenants } from './schema.ts';

describe('Postgres through the Neon driver, from inside workerd', () => {
  let env: Env;
  beforeAll(async () => {
    env = await isolatedEnv();
  });

  it('runs a query on the server', async () => {
    const handle = openDatabase(parseConfig(env));
    try {
      const result = await handle.db.execute<{ answer: number; version: string }>(
        sql`select 6 * 7 as answer, version() as version`,
      );
      expect(result.rows[0]?.answer).toBe(42);
      expect(result.rows[0]?.version).toMatch(/^PostgreSQL \d+/);
    } finally {
      await handle.close();
    }
  });

  it('writes and reads rows of the migrated schema in a transaction', async () => {
    const handle = openDatabase(parseConfig(env));
    try {
      const slug = `acme-${crypto.randomUUID().slice(0, 8)}`;
      const inserted = await handle.db.transaction(async (tx) => {
        const [row] = await tx.insert(tenants).values({ name: 'Acme', slug }).returning();
        return row;
      });
      expect(inserted?.id).toMatch(/^[0-9a-f-]{36}$/);
      const found = await handle.db.select().from(tenants).where(eq(tenants.slug, slug));
      expect(found).toHaveLength(1);
      expect(found[0]?.name).toBe('Acme');
      expect(found[0]?.createdAt).toBeInstanceOf(Date);
    } finally {
      await handle.close();
    }
  });

  it('gives this file a database of its own', async () => {
    const other = await isolatedEnv();
    expect(other.DATABASE_URL).not.toBe(env.DATABASE_URL);
    const handle = openDatabase(parseConfig(other));
    try {
      const rows = await handle.db.select().from(tenants);
      expect(rows).toEqual([]);
    } finally {
      await handle.close();
    }
  });

  it('rolls back a failed transaction completely', async () => {
    const handle = openDatabase(parseConfig(env));
    const slug = `rollback-${crypto.randomUUID().slice(0, 8)}`;
    try {
      await expect(
        handle.db.transaction(async (tx) => {
          await tx.insert(tenants).values({ name: 'Half', slug });
          await tx.insert(tenants).values({ name: 'Duplicate', slug });
        }),
      ).rejects.toThrow();
      expect(await handle.db.select().from(tenants).where(eq(tenants.slug, slug))).toEqual([]);
    } finally {
      await handle.close();
    }
  });

  it('answers many parallel requests each with its own rows (the local stack serialises whole exchanges)', async () => {
    const users = await Promise.all(Array.from({ length: 10 }, (_, i) => signedUpClient(env, `parallel${i}`)));
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(
        users.map(async ({ client }) => {
          const res = await client.get('/api/v1/me');
          return { status: res.status, email: ((await res.json()) as { user?: { email?: string } }).user?.email };
        }),
      );
      expect(answers).toEqual(users.map(({ email }) => ({ status: 200, email })));
    }
  });
});
