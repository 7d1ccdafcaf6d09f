import { OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isolatedEnv } from '../../test/support.ts';
import { openDatabase } from '../db/client.ts';
import { tenants } from '../db/schema.ts';
import { type Env, parseConfig } from '../env.ts';
import type { AppEnv } from './app-env.ts';
import { handleError } from './error-handler.ts';

const SECRET = 'pw-secret-7f3a9c';

/** Runs `query` against this file's database and returns the one error log line the handler wrote. */
async function loggedFailure(env: Env, query: (handle: ReturnType<typeof openDatabase>) => Promise<unknown>) {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'error').mockImplementation((line: string) => lines.push(line));
  const app = new OpenAPIHono<AppEnv>();
  app.get('/fail', async () => {
    const handle = openDatabase(parseConfig(env));
    try {
      await query(handle);
    } finally {
      await handle.close();
    }
    return new Response('unreachable');
  });
  app.onError(handleError);
  const res = await app.request('/fail');
  spy.mockRestore();
  expect(res.status).toBe(500);
  expect(lines).toHaveLength(1);
  return { line: lines[0] as string, entry: JSON.parse(lines[0] as string) as Record<string, unknown> };
}

describe('errors in the logs', () => {
  let env: Env;
  beforeAll(async () => {
    env = await isolatedEnv();
  });
  afterEach(() => vi.restoreAllMocks());

  it('logs a failed query’s text and SQLSTATE, never its parameters or the value the database quotes', async () => {
    const { line, entry } = await loggedFailure(env, (h) => h.db.execute(sql`select ${SECRET}::uuid as id`));
    expect(line).not.toContain(SECRET);
    expect(entry.query).toBe('select $1::uuid as id');
    expect(entry.params).toBe(1);
    expect(entry.cause).toMatchObject({ error: 'DatabaseError 22P02' });
    expect(entry.stack).toMatch(/^\s+at /);
  });

  it('keeps a constraint violation’s message and constraint, not the duplicate value', async () => {
    const { line, entry } = await loggedFailure(env, async (h) => {
      await h.db.insert(tenants).values({ name: 'One', slug: SECRET });
      await h.db.insert(tenants).values({ name: 'Two', slug: SECRET });
    });
    expect(line).not.toContain(SECRET);
    expect(entry.cause).toMatchObject({ error: expect.stringMatching(/^DatabaseError 23505: duplicate key/) });
    expect((entry.cause as { constraint?: string }).constraint).toMatch(/slug/);
  });

  it('drops the password of a connection string in an error message and its stack', async () => {
    const { line } = await loggedFailure(env, async () => {
      throw new Error(`connection to postgres://admin:${SECRET}@db.internal/app failed`);
    });
    expect(line).not.toContain(SECRET);
    expect(line).toContain('postgres://[redacted]@db.internal/app');
  });
});
