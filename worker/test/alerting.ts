import { runInDurableObject } from 'cloudflare:test';
import { ApiErrorBody, CreatedApiKey, MeResponse } from '@pulsewire/protocol';
import type { SQL } from 'drizzle-orm';
import { expect } from 'vitest';
import { openDatabase } from '../src/db/client.ts';
import { alertEvents } from '../src/db/schema.ts';
import { type Env, parseConfig } from '../src/env.ts';
import { lastMailTo, signedUpClient, TestClient, uniqueEmail } from './client.ts';

/** An organisation with a member of every role and a read key, for the alerting routes' role matrix. */
export interface Org {
  tenantId: string;
  owner: TestClient;
  admin: TestClient;
  viewer: TestClient;
  viewerId: string;
  /** `Authorization` header of a read API key. */
  readKey: Record<string, string>;
}

async function invite(
  env: Env,
  owner: TestClient,
  role: 'admin' | 'viewer',
): Promise<{ client: TestClient; id: string }> {
  const email = uniqueEmail(role);
  const invited = await owner.post('/api/v1/invitations', { email, role });
  if (invited.status !== 201) throw new Error(`invite failed: ${invited.status} ${await invited.text()}`);
  const client = new TestClient(env);
  const { token } = await lastMailTo(env, email);
  const accepted = await client.post('/api/v1/invitations/accept', { token, password: `${role} password 1` });
  if (accepted.status !== 200) throw new Error(`accept failed: ${accepted.status} ${await accepted.text()}`);
  return { client, id: MeResponse.parse(await accepted.json()).user.id };
}

export async function orgWithMembers(env: Env, label = 'alerts'): Promise<Org> {
  const { client: owner } = await signedUpClient(env, label);
  const me = MeResponse.parse(await (await owner.get('/api/v1/me')).json());
  const admin = await invite(env, owner, 'admin');
  const viewer = await invite(env, owner, 'viewer');
  const key = CreatedApiKey.parse(await (await owner.post('/api/v1/keys', { name: 'read', scope: 'read' })).json());
  return {
    tenantId: me.organization.id,
    owner,
    admin: admin.client,
    viewer: viewer.client,
    viewerId: viewer.id,
    readKey: { Authorization: `Bearer ${key.secret}` },
  };
}

export async function withDb<T>(env: Env, fn: (db: ReturnType<typeof openDatabase>['db']) => Promise<T>): Promise<T> {
  const handle = openDatabase(parseConfig(env));
  try {
    return await fn(handle.db);
  } finally {
    await handle.close();
  }
}

/** Asserts an error answer: status, code and (when given) the field. */
export async function expectError(res: Response, status: number, code: string, path?: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const { error } = ApiErrorBody.parse(JSON.parse(text));
  expect(error.code, text).toBe(code);
  if (path !== undefined) expect(error.path, text).toBe(path);
}

/** What the API told the tenant object: configuration version and acknowledged alert ids. */
export async function tenantObjectState(env: Env, tenantId: string) {
  return runInDurableObject(env.TENANT.get(env.TENANT.idFromName(tenantId)), (instance) => {
    // Private fields that record the calls; only tests read them.
    const state = instance as unknown as { alertConfigVersion: number; acknowledgedAlerts: Set<string> };
    return { alertConfigVersion: state.alertConfigVersion, acknowledged: [...state.acknowledgedAlerts] };
  });
}

/** An alert instance as the engine will write it (the engine is wired by the integrator). */
export async function insertAlert(
  env: Env,
  values: Omit<Partial<typeof alertEvents.$inferInsert>, 'startedAt'> & {
    tenantId: string;
    ruleId: string;
    /** A Date, or SQL for times a Date cannot hold (microseconds). */
    startedAt?: Date | SQL;
  },
): Promise<string> {
  const [row] = await withDb(env, (db) =>
    db
      .insert(alertEvents)
      .values({
        ruleName: 'High CPU',
        state: 'firing',
        level: 'warning',
        startedAt: new Date(),
        ...values,
      })
      .returning({ id: alertEvents.id }),
  );
  if (!row) throw new Error('alert insert returned nothing');
  return row.id;
}
