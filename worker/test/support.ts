import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { type Database, openDatabase } from '../src/db/client.ts';
import { type Env, parseConfig } from '../src/env.ts';
import worker from '../src/index.ts';

type TestBindings = Env & {
  TEST_DATABASES_URL: string;
  FAKE_RESEND_URL: string;
  FAKE_SLACK_URL: string;
  FAKE_WEBHOOK_URL: string;
};
export const baseEnv = env as unknown as TestBindings;

/**
 * An env whose DATABASE_URL is a database of this test file's own (migrated, empty), so files
 * never see each other's rows. Everything else is the real bindings of wrangler.toml.
 */
export async function isolatedEnv(): Promise<Env> {
  const res = await fetch(`${baseEnv.TEST_DATABASES_URL}/databases`, { method: 'POST' });
  if (res.status !== 201) throw new Error(`test database service answered ${res.status}: ${await res.text()}`);
  const { databaseUrl } = (await res.json()) as { databaseUrl: string };
  return { ...baseEnv, DATABASE_URL: databaseUrl };
}

/** Sends a request through the real Worker entry point (the Hono app) with the given env. */
export async function callWorker(testEnv: Env, path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`http://pulsewire.test${path}`, init), testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** Runs `fn` with a database handle on the test env's database (for checks the API cannot make). */
export async function withDatabase<T>(testEnv: Env, fn: (db: Database) => Promise<T>): Promise<T> {
  const handle = openDatabase(parseConfig(testEnv));
  try {
    return await fn(handle.db);
  } finally {
    await handle.close();
  }
}

/** Objects get wrangler.toml's bindings, where DATABASE_URL is unset: give this tenant's object the file's database. */
export async function objectUsesDatabase(testEnv: Env, tenantId: string): Promise<void> {
  await runInDurableObject(testEnv.TENANT.get(testEnv.TENANT.idFromName(tenantId)), (instance) => {
    Object.assign(instance, { env: testEnv });
  });
}
