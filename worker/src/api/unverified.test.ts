import { ApiErrorBody, MeResponse } from '@pulsewire/protocol';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { lastMailTo, mailsTo, signedUpClient, TestClient, uniqueEmail } from '../../test/client.ts';
import { isolatedEnv } from '../../test/support.ts';
import { MAX_OWNED_ORGANIZATIONS } from '../auth/organizations.ts';
import { openDatabase } from '../db/client.ts';
import { memberships, tenants, users } from '../db/schema.ts';
import { type Env, parseConfig } from '../env.ts';

const PASSWORD = 'correct horse battery staple';
const errorCode = async (res: Response) => ApiErrorBody.parse(await res.json()).error.code;

async function withDatabase<T>(env: Env, work: (db: ReturnType<typeof openDatabase>['db']) => Promise<T>) {
  const handle = openDatabase(parseConfig(env));
  try {
    return await work(handle.db);
  } finally {
    await handle.close();
  }
}

describe('accounts whose address is not verified', () => {
  let env: Env;
  beforeAll(async () => {
    env = await isolatedEnv();
  });

  it('get no session by signing in, only a fresh link; a wrong password still says nothing more', async () => {
    const email = uniqueEmail('early');
    await new TestClient(env).post('/api/v1/auth/signup', { email, password: PASSWORD });
    const client = new TestClient(env);
    const login = await client.post('/api/v1/auth/login', { email, password: PASSWORD });
    expect(login.status).toBe(403);
    expect(await errorCode(login)).toBe('email_unverified');
    expect(client.cookies.size).toBe(0);
    expect(await mailsTo(env, email)).toHaveLength(2);

    const wrong = await client.post('/api/v1/auth/login', { email, password: 'not the password' });
    expect(await errorCode(wrong)).toBe('invalid_credentials');

    const { token } = await lastMailTo(env, email);
    expect((await client.post('/api/v1/auth/verify', { token })).status).toBe(200);
    expect((await client.get('/api/v1/me')).status).toBe(200);
  });

  it('can only see themselves, ask for a new link and sign out, even with a session', async () => {
    // A session from before verification was required (sign-in used to allow it).
    const { client, email } = await signedUpClient(env, 'unproven');
    const me = MeResponse.parse(await (await client.get('/api/v1/me')).json());
    await withDatabase(env, (db) => db.update(users).set({ emailVerifiedAt: null }).where(eq(users.id, me.user.id)));

    const self = await client.get('/api/v1/me');
    expect(self.status).toBe(200);
    expect(MeResponse.parse(await self.json()).user.emailVerified).toBe(false);

    const refused: [string, string, unknown?][] = [
      ['POST', '/api/v1/keys', { name: 'backdoor', scope: 'read' }],
      ['POST', '/api/v1/invitations', { email: uniqueEmail('spam'), role: 'viewer' }],
      ['POST', '/api/v1/organizations', { name: 'Staging' }],
      ['GET', '/api/v1/organizations'],
      ['GET', '/api/v1/hosts'],
      ['GET', '/api/v1/members'],
      ['POST', '/api/v1/auth/email/change', { newEmail: uniqueEmail('elsewhere'), password: PASSWORD }],
      ['POST', '/api/v1/auth/password/change', { currentPassword: PASSWORD, newPassword: 'another password 1' }],
      ['GET', '/api/v1/stream'],
    ];
    for (const [method, path, body] of refused) {
      const res = await client.request(method, path, body, path.endsWith('/stream') ? { Upgrade: 'websocket' } : {});
      expect([method, path, res.status, await errorCode(res)]).toEqual([method, path, 403, 'email_unverified']);
    }

    // Invited elsewhere, it cannot join with that session either.
    const { client: inviter } = await signedUpClient(env, 'inviter');
    await inviter.post('/api/v1/invitations', { email, role: 'viewer' });
    const invitation = await lastMailTo(env, email);
    const join = await client.post('/api/v1/invitations/accept', { token: invitation.token });
    expect(await errorCode(join)).toBe('email_unverified');

    expect((await client.post('/api/v1/auth/verify/resend')).status).toBe(202);
    expect((await lastMailTo(env, email)).subject).toMatch(/verify/i);
    expect((await client.post('/api/v1/auth/logout-all')).status).toBe(200);
  });
});

describe('creating organisations', () => {
  let env: Env;
  beforeAll(async () => {
    env = await isolatedEnv();
  });

  it('is rate limited per user', async () => {
    const { client } = await signedUpClient(env, 'founder');
    for (let i = 0; i < 10; i++) {
      expect((await client.post('/api/v1/organizations', { name: `Venture ${i}` })).status).toBe(201);
    }
    const res = await client.post('/api/v1/organizations', { name: 'One too many' });
    expect(res.status).toBe(429);
    expect(await errorCode(res)).toBe('rate_limited');
  });

  it(`stops at ${MAX_OWNED_ORGANIZATIONS} owned organisations`, async () => {
    const { client } = await signedUpClient(env, 'collector');
    const me = MeResponse.parse(await (await client.get('/api/v1/me')).json());
    // The sign-up organisation plus enough to be one short of the cap.
    await withDatabase(env, async (db) => {
      for (let i = 1; i < MAX_OWNED_ORGANIZATIONS - 1; i++) {
        const [tenant] = await db
          .insert(tenants)
          .values({ name: `Held ${i}`, slug: `held-${i}-${crypto.randomUUID().slice(0, 8)}` })
          .returning();
        await db.insert(memberships).values({ tenantId: tenant?.id as string, userId: me.user.id, role: 'owner' });
      }
    });
    expect((await client.post('/api/v1/organizations', { name: 'The last one' })).status).toBe(201);
    const res = await client.post('/api/v1/organizations', { name: 'Beyond' });
    expect(res.status).toBe(409);
    expect(await errorCode(res)).toBe('organization_limit');
  });
});
