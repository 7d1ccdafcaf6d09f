import { ApiErrorBody, MeResponse } from '@pulsewire/protocol';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { lastMailTo, signedUpClient, TestClient, uniqueEmail } from '../../test/client.ts';
import { isolatedEnv } from '../../test/support.ts';
import { openDatabase } from '../db/client.ts';
import { sessions } from '../db/schema.ts';
import { type Env, parseConfig } from '../env.ts';

const PASSWORD = 'correct horse battery staple';
const errorCode = async (res: Response) => ApiErrorBody.parse(await res.json()).error.code;

describe('sign-up, verification and sign-in', () => {
  let env: Env;
  beforeAll(async () => {
    env = await isolatedEnv();
  });

  it('signs up, mails a link that verifies and signs in, then /me shows the new organisation', async () => {
    const client = new TestClient(env);
    const email = uniqueEmail('ada');
    const res = await client.post('/api/v1/auth/signup', {
      email: email.toUpperCase(),
      password: PASSWORD,
      name: 'Ada',
    });
    expect(res.status).toBe(201);
    expect(client.cookies.size).toBe(0);

    const mail = await lastMailTo(env, email);
    expect(mail.subject).toMatch(/verify/i);
    expect(mail.html).toContain(`/verify?token=${mail.token}`);

    expect((await client.get('/api/v1/me')).status).toBe(401);
    const verify = await client.post('/api/v1/auth/verify', { token: mail.token });
    expect(verify.status).toBe(200);
    expect([...client.cookies.keys()]).toEqual(['pw_session']);

    const me = MeResponse.parse(await (await client.get('/api/v1/me')).json());
    expect(me.user).toMatchObject({ email, name: 'Ada', emailVerified: true });
    expect(me.organization.role).toBe('owner');
    expect(me.organizations).toHaveLength(1);
  });

  it('answers a taken address exactly like a new one, and mails the owner instead', async () => {
    const { email } = await signedUpClient(env, 'taken');
    const fresh = await new TestClient(env).post('/api/v1/auth/signup', {
      email: uniqueEmail('new'),
      password: PASSWORD,
    });
    const taken = await new TestClient(env).post('/api/v1/auth/signup', { email, password: 'another password 123' });
    expect(taken.status).toBe(fresh.status);
    expect(await taken.json()).toEqual(await fresh.json());
    expect(taken.headers.getSetCookie()).toEqual([]);
    expect((await lastMailTo(env, email)).subject).toMatch(/tried to sign up/);
  });

  it('refuses a verification link twice, and an unknown one', async () => {
    const client = new TestClient(env);
    const email = uniqueEmail();
    await client.post('/api/v1/auth/signup', { email, password: PASSWORD });
    const { token } = await lastMailTo(env, email);
    expect((await client.post('/api/v1/auth/verify', { token })).status).toBe(200);
    const again = await client.post('/api/v1/auth/verify', { token });
    expect(again.status).toBe(400);
    expect(await errorCode(again)).toBe('token_used');
    const unknown = await client.post('/api/v1/auth/verify', { token: 'x'.repeat(43) });
    expect(await errorCode(unknown)).toBe('token_invalid');
  });

  it('signs in and out; a signed-out cookie no longer works', async () => {
    const { email } = await signedUpClient(env, 'grace');
    const client = new TestClient(env);
    const login = await client.post('/api/v1/auth/login', { email, password: PASSWORD });
    expect(login.status).toBe(200);
    expect(MeResponse.parse(await login.json()).user.email).toBe(email);
    const cookie = new Map(client.cookies);
    expect((await client.post('/api/v1/auth/logout')).status).toBe(200);
    expect(client.cookies.size).toBe(0);
    const replay = new TestClient(env);
    replay.cookies = cookie;
    const res = await replay.get('/api/v1/me');
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('unauthorized');
  });

  it('gives the same error for a wrong password and an unknown account', async () => {
    const { email } = await signedUpClient(env, 'wrongpw');
    const wrong = await new TestClient(env).post('/api/v1/auth/login', { email, password: 'not the password' });
    const unknown = await new TestClient(env).post('/api/v1/auth/login', { email: uniqueEmail(), password: PASSWORD });
    expect(wrong.status).toBe(401);
    const { requestId: _a, ...wrongError } = ApiErrorBody.parse(await wrong.json()).error;
    const { requestId: _b, ...unknownError } = ApiErrorBody.parse(await unknown.json()).error;
    expect(wrongError).toEqual(unknownError);
    expect(wrongError.code).toBe('invalid_credentials');
  });

  it('signs out every session with logout-all', async () => {
    const { client, email } = await signedUpClient(env, 'multi');
    const laptop = new TestClient(env);
    await laptop.post('/api/v1/auth/login', { email, password: PASSWORD });
    expect((await laptop.get('/api/v1/me')).status).toBe(200);
    expect((await client.post('/api/v1/auth/logout-all')).status).toBe(200);
    expect((await laptop.get('/api/v1/me')).status).toBe(401);
    expect((await client.get('/api/v1/me')).status).toBe(401);
  });

  it('names the bad field for invalid sign-up input, and writes nothing', async () => {
    const client = new TestClient(env);
    const email = uniqueEmail('short');
    const short = await client.post('/api/v1/auth/signup', { email, password: 'short' });
    expect(short.status).toBe(422);
    expect(ApiErrorBody.parse(await short.json()).error.path).toBe('json.password');
    const notEmail = await client.post('/api/v1/auth/signup', { email: 'nope', password: PASSWORD });
    expect(ApiErrorBody.parse(await notEmail.json()).error.path).toBe('json.email');
    const tooLong = await client.post('/api/v1/auth/signup', { email: uniqueEmail(), password: 'x'.repeat(300) });
    expect(tooLong.status).toBe(422);
    const missing = await client.post('/api/v1/auth/signup', {});
    expect(missing.status).toBe(422);
    await expect(lastMailTo(env, email)).rejects.toThrow(/no mail/);
  });

  it('refuses a cross-site state change carrying the cookie', async () => {
    const { client } = await signedUpClient(env, 'csrf');
    const res = await client.request('POST', '/api/v1/auth/logout-all', {}, { Origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('csrf_rejected');
    expect((await client.get('/api/v1/me')).status).toBe(200);
  });

  it('rate limits sign-in attempts per account and network with 429 and Retry-After', async () => {
    const { email } = await signedUpClient(env, 'limited');
    const guesser = new TestClient(env);
    let last: Response | undefined;
    for (let i = 0; i < 11; i++) {
      last = await guesser.post('/api/v1/auth/login', { email, password: 'wrong password!' });
    }
    expect(last?.status).toBe(429);
    expect(Number(last?.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(await errorCode(last as Response)).toBe('rate_limited');
  });
});

describe('password reset and change', () => {
  let env: Env;
  beforeAll(async () => {
    env = await isolatedEnv();
  });

  it('resets by a single-use link, signing out old sessions', async () => {
    const { client, email } = await signedUpClient(env, 'reset');
    const anon = new TestClient(env);
    expect((await anon.post('/api/v1/auth/password/forgot', { email })).status).toBe(202);
    const { token, subject } = await lastMailTo(env, email);
    expect(subject).toMatch(/reset/i);
    const res = await anon.post('/api/v1/auth/password/reset', { token, password: 'a brand new password' });
    expect(res.status).toBe(200);
    expect((await anon.get('/api/v1/me')).status).toBe(200);
    expect((await client.get('/api/v1/me')).status).toBe(401);
    const reuse = await anon.post('/api/v1/auth/password/reset', { token, password: 'yet another password' });
    expect(await errorCode(reuse)).toBe('token_used');
    expect(
      (await new TestClient(env).post('/api/v1/auth/login', { email, password: 'a brand new password' })).status,
    ).toBe(200);
  });

  it('answers forgot-password for an unknown address like a known one, sending nothing', async () => {
    const known = await signedUpClient(env, 'known');
    const a = await new TestClient(env).post('/api/v1/auth/password/forgot', { email: known.email });
    const stranger = uniqueEmail('stranger');
    const b = await new TestClient(env).post('/api/v1/auth/password/forgot', { email: stranger });
    expect(b.status).toBe(a.status);
    expect(await b.json()).toEqual(await a.json());
    await expect(lastMailTo(env, stranger)).rejects.toThrow(/no mail/);
  });

  it('answers forgot-password and sign-up before looking at the address, so no answer waits on what is known', async () => {
    const { email: known } = await signedUpClient(env, 'timed');
    // With the database unreachable, an answer that still comes back cannot have waited on a lookup:
    // a known and an unknown address cost the request exactly the same work.
    const unreachable = { ...env, DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none' };
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const answers = [];
      for (const email of [known, uniqueEmail('unknown')]) {
        const forgot = await new TestClient(unreachable).post('/api/v1/auth/password/forgot', { email });
        const signup = await new TestClient(unreachable).post('/api/v1/auth/signup', { email, password: PASSWORD });
        answers.push([forgot.status, await forgot.json(), signup.status, await signup.json()]);
      }
      expect(answers[0]).toEqual(answers[1]);
      expect(answers[0]?.[0]).toBe(202);
      expect(answers[0]?.[2]).toBe(201);
    } finally {
      spy.mockRestore();
    }
  });

  it('changes the password with the current one, keeping only this session', async () => {
    const { client, email, password } = await signedUpClient(env, 'change');
    const other = new TestClient(env);
    await other.post('/api/v1/auth/login', { email, password });
    const wrong = await client.post('/api/v1/auth/password/change', {
      currentPassword: 'nope nope',
      newPassword: 'the next password',
    });
    expect(wrong.status).toBe(403);
    const ok = await client.post('/api/v1/auth/password/change', {
      currentPassword: password,
      newPassword: 'the next password',
    });
    expect(ok.status).toBe(200);
    expect((await client.get('/api/v1/me')).status).toBe(200);
    expect((await other.get('/api/v1/me')).status).toBe(401);
  });

  it('changes the e-mail only once the new address is confirmed, then asks to sign in with it', async () => {
    const { client, email, password } = await signedUpClient(env, 'move');
    const newEmail = uniqueEmail('moved');
    expect((await client.post('/api/v1/auth/email/change', { newEmail, password })).status).toBe(202);
    expect(MeResponse.parse(await (await client.get('/api/v1/me')).json()).user.email).toBe(email);
    const { token } = await lastMailTo(env, newEmail);
    expect((await client.post('/api/v1/auth/verify', { token })).status).toBe(200);
    expect((await client.get('/api/v1/me')).status).toBe(401);
    const login = await client.post('/api/v1/auth/login', { email: newEmail, password });
    expect(login.status).toBe(200);
    expect(MeResponse.parse(await (await client.get('/api/v1/me')).json()).user).toMatchObject({
      email: newEmail,
      emailVerified: true,
    });
    expect((await new TestClient(env).post('/api/v1/auth/login', { email, password })).status).toBe(401);
  });

  it('a password reset ends a pending e-mail change, every other link and every session', async () => {
    // Someone holding the password and a session starts moving the account to their own address…
    const { client, email, password } = await signedUpClient(env, 'hijacked');
    const theirs = uniqueEmail('attacker');
    expect((await client.post('/api/v1/auth/email/change', { newEmail: theirs, password })).status).toBe(202);
    const pending = await lastMailTo(env, theirs);
    // …and the owner takes the account back with a reset.
    const owner = new TestClient(env);
    await owner.post('/api/v1/auth/password/forgot', { email });
    const reset = await lastMailTo(env, email);
    expect(
      (await owner.post('/api/v1/auth/password/reset', { token: reset.token, password: 'mine again 12' })).status,
    ).toBe(200);
    expect((await client.get('/api/v1/me')).status).toBe(401);
    const late = new TestClient(env);
    const res = await late.post('/api/v1/auth/verify', { token: pending.token });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('token_used');
    expect(late.cookies.size).toBe(0);
    expect(MeResponse.parse(await (await owner.get('/api/v1/me')).json()).user.email).toBe(email);
  });

  it('confirming an address change signs nobody in, signs everyone out, ends old links and tells the old address', async () => {
    const { client, email, password } = await signedUpClient(env, 'moving');
    const laptop = new TestClient(env);
    await laptop.post('/api/v1/auth/login', { email, password });
    await new TestClient(env).post('/api/v1/auth/password/forgot', { email });
    const oldReset = await lastMailTo(env, email);
    const newEmail = uniqueEmail('new-home');
    await client.post('/api/v1/auth/email/change', { newEmail, password });
    const { token } = await lastMailTo(env, newEmail);

    const opener = new TestClient(env);
    const res = await opener.post('/api/v1/auth/verify', { token });
    expect(res.status).toBe(200);
    expect(opener.cookies.size).toBe(0);
    expect((await client.get('/api/v1/me')).status).toBe(401);
    expect((await laptop.get('/api/v1/me')).status).toBe(401);
    const notice = await lastMailTo(env, email);
    expect(notice.subject).toMatch(/address .*was changed/i);
    expect(notice.text).toContain(newEmail);
    const reset = await new TestClient(env).post('/api/v1/auth/password/reset', {
      token: oldReset.token,
      password: 'sneaky new password',
    });
    expect(await errorCode(reset)).toBe('token_used');
  });
});

describe('session lifetime', () => {
  let env: Env;
  beforeAll(async () => {
    env = await isolatedEnv();
  });
  const DAY = 24 * 3600 * 1000;

  /** Backdates the user's sessions: signed in `ageDays` ago, last seen `idleHours` ago. */
  async function age(userId: string, ageDays: number, idleHours: number) {
    const handle = openDatabase(parseConfig(env));
    try {
      const now = Date.now();
      await handle.db
        .update(sessions)
        .set({ createdAt: new Date(now - ageDays * DAY), lastSeenAt: new Date(now - idleHours * 3600 * 1000) })
        .where(eq(sessions.userId, userId));
      return (await handle.db.select().from(sessions).where(eq(sessions.userId, userId)))[0];
    } finally {
      await handle.close();
    }
  }

  it('ends a busy session 30 days after sign-in, however recently it was used', async () => {
    const { client } = await signedUpClient(env, 'longlived');
    const me = MeResponse.parse(await (await client.get('/api/v1/me')).json());
    const session = await age(me.user.id, 29.5, 2);
    const res = await client.get('/api/v1/me');
    expect(res.status).toBe(200);
    // Sliding forward stops at the absolute end, in the database and in the cookie.
    const end = (session?.createdAt.getTime() ?? 0) + 30 * DAY;
    const cookie = res.headers.getSetCookie().find((line) => line.startsWith('pw_session='));
    const expires = Date.parse(/expires=([^;]+)/i.exec(cookie ?? '')?.[1] ?? '');
    expect(expires).toBeLessThanOrEqual(end);
    expect(expires).toBeGreaterThan(Date.now());

    await age(me.user.id, 30.01, 0);
    expect((await client.get('/api/v1/me')).status).toBe(401);
  });
});
