import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { API_KEY_PREFIX, ApiErrorBody, MemberList, MeResponse } from '@pulsewire/protocol';
import { ApiSession, type DevStack, startDevStack } from '@pulsewire/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, expectError, freshIp, type Mail, mailsTo, mailTo, PASSWORD, signedUp, tokenOf } from './hostile.ts';
import { until } from './support.ts';

/**
 * Issue #11's account items retried against the running local stack (what `pnpm dev` runs): e-mail
 * change and password reset (9), what forgot-password and sign-up reveal (11), the sign-in, sign-up and
 * API-key limits (12), racing requests (13), and what reaches the logs (15). Mail is read from the dev
 * outbox; every account speaks from its own client address (`CF-Connecting-IP`), as users do, so that
 * the per-network limits under test are the only ones reached.
 */

const unique = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}@example.com`;
const isReset = (m: Mail) => /reset/i.test(m.subject);

describe('accounts against the running local stack (issue #11)', () => {
  let stack: DevStack;
  let dataDir: string;
  let databaseStopped = false;
  /** Every link token this run read: none may reach the logs (15). */
  const tokens = new Set<string>();
  const token = (mail: Mail) => {
    const value = tokenOf(mail);
    tokens.add(value);
    return value;
  };
  const client = (ip = freshIp()) => new ApiSession(stack.url, { headers: { 'CF-Connecting-IP': ip } });

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-e2e-hardening-accounts-'));
    stack = await startDevStack({ dataDir });
  });

  afterAll(async () => {
    await stack?.worker.stop();
    if (!databaseStopped) await stack?.database.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a password reset ends a pending e-mail change, every other link and every session (9)', async () => {
    // Someone holding the password and a session starts moving the account to their own address…
    const { api: intruder, email } = await signedUp(stack.url, 'hijacked');
    const laptop = client();
    await laptop.expect('POST', '/auth/login', { email, password: PASSWORD }, 200);
    const theirs = unique('intruder');
    await intruder.expect('POST', '/auth/email/change', { newEmail: theirs, password: PASSWORD }, 202);
    const pending = token(await mailTo(stack.url, theirs));
    // …and the owner takes the account back with a reset.
    const owner = client();
    await owner.expect('POST', '/auth/password/forgot', { email }, 202);
    const reset = token(await mailTo(stack.url, email, isReset));
    await owner.expect('POST', '/auth/password/reset', { token: reset, password: 'mine again 12' }, 200);

    await expectError(await intruder.call('GET', '/me'), 401, 'unauthorized');
    await expectError(await laptop.call('GET', '/me'), 401, 'unauthorized');
    const late = client();
    await expectError(await late.call('POST', '/auth/verify', { token: pending }), 400, 'token_used');
    expect((await late.call('GET', '/me')).status).toBe(401);
    expect(MeResponse.parse(await owner.expect('GET', '/me', undefined, 200)).user.email).toBe(email);
  });

  it('confirming an address change signs nobody in, signs everyone out, ends old links and tells the old address (9)', async () => {
    const { api: account, email } = await signedUp(stack.url, 'moving');
    const laptop = client();
    await laptop.expect('POST', '/auth/login', { email, password: PASSWORD }, 200);
    await client().expect('POST', '/auth/password/forgot', { email }, 202);
    const oldReset = token(await mailTo(stack.url, email, isReset));
    const newEmail = unique('new-home');
    await account.expect('POST', '/auth/email/change', { newEmail, password: PASSWORD }, 202);
    const change = token(await mailTo(stack.url, newEmail));

    // Whoever opens the link (the mailbox's holder, in another browser) is not signed in by it.
    const opener = client();
    await opener.expect('POST', '/auth/verify', { token: change }, 200);
    await expectError(await opener.call('GET', '/me'), 401, 'unauthorized');
    await expectError(await account.call('GET', '/me'), 401, 'unauthorized');
    await expectError(await laptop.call('GET', '/me'), 401, 'unauthorized');
    const notice = await mailTo(stack.url, email, (m) => /was changed/i.test(m.subject));
    expect(notice.text).toContain(newEmail);
    await expectError(
      await client().call('POST', '/auth/password/reset', { token: oldReset, password: 'sneaky new password' }),
      400,
      'token_used',
    );
    await expectError(
      await client().call('POST', '/auth/login', { email, password: PASSWORD }),
      401,
      'invalid_credentials',
    );
    const me = MeResponse.parse(
      await client().expect('POST', '/auth/login', { email: newEmail, password: PASSWORD }, 200),
    );
    expect(me.user).toMatchObject({ email: newEmail, emailVerified: true });
  });

  it('answers forgot-password and sign-up alike for known and unknown addresses; the mail follows the answer (11)', async () => {
    const { email: known } = await signedUp(stack.url, 'known');
    const nobody = unique('nobody');
    const asker = client();
    const answers = [];
    for (const email of [known, nobody]) {
      const res = await asker.call('POST', '/auth/password/forgot', { email });
      answers.push({ status: res.status, body: await res.json() });
    }
    expect(answers[0]?.status).toBe(202);
    expect(answers[1]).toEqual(answers[0]);
    // Sent after the answer: it arrives once the response is in, and only for the account.
    token(await mailTo(stack.url, known, isReset));

    // Sign-up for a taken address answers like a new one, and mails the owner instead.
    const fresh = unique('fresh');
    const signups = [];
    for (const email of [known, fresh]) {
      const res = await client().call('POST', '/auth/signup', { email, password: PASSWORD });
      signups.push({ status: res.status, body: await res.json() });
    }
    expect(signups[0]?.status).toBe(201);
    expect(signups[1]).toEqual(signups[0]);
    await mailTo(stack.url, known, (m) => /tried to sign up/i.test(m.subject));
    token(await mailTo(stack.url, fresh, (m) => /verify/i.test(m.subject)));
    expect(await mailsTo(stack.url, nobody)).toEqual([]);
  });

  it('limits sign-in per (account, network): a guesser is refused with a clear 429, the owner elsewhere is not (12)', async () => {
    const { email } = await signedUp(stack.url, 'guessed');
    const guesser = client();
    for (let attempt = 0; attempt < 10; attempt++) {
      await expectError(
        await guesser.call('POST', '/auth/login', { email, password: `wrong guess ${attempt}` }),
        401,
        'invalid_credentials',
      );
    }
    const refused = await guesser.call('POST', '/auth/login', { email, password: PASSWORD });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    const body = ApiErrorBody.parse(await refused.json());
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.message).toMatch(/too many sign-in attempts.*reset your password/i);
    // The owner, on their own network, is not locked out by someone else's guessing.
    await client().expect('POST', '/auth/login', { email, password: PASSWORD }, 200);
  });

  it('limits IPv6 clients by /64: rotating addresses in one network does not buy more sign-ups or key guesses (12)', async () => {
    const network = (n: number) => `2001:db8:12:${n.toString(16)}`;
    for (let i = 1; i <= 5; i++) {
      const res = await client(`${network(1)}::${i}`).call('POST', '/auth/signup', {
        email: unique('v6'),
        password: PASSWORD,
      });
      expect(res.status, await res.text()).toBe(201);
    }
    await expectError(
      await client(`${network(1)}:ffff:ffff:ffff:ffff`).call('POST', '/auth/signup', {
        email: unique('v6'),
        password: PASSWORD,
      }),
      429,
      'rate_limited',
    );
    // The next /64 is someone else.
    expect(
      (await client(`${network(2)}::1`).call('POST', '/auth/signup', { email: unique('v6'), password: PASSWORD }))
        .status,
    ).toBe(201);

    // Unknown API keys: 20 per network, then refused before any lookup, whichever address of the /64 asks.
    const guess = (ip: string) =>
      fetch(`${stack.url}/api/v1/hosts`, {
        headers: { 'CF-Connecting-IP': ip, Authorization: `Bearer ${API_KEY_PREFIX}${crypto.randomUUID()}` },
      });
    for (let i = 1; i <= 20; i++) await expectError(await guess(`${network(3)}::${i}`), 401, 'unauthorized');
    await expectError(await guess(`${network(3)}::abcd`), 429, 'rate_limited');
    await expectError(await guess(`${network(4)}::1`), 401, 'unauthorized');
  });

  it('caps sign-up mail to one address at 3 an hour, whoever asks (12)', async () => {
    const target = unique('mailbox');
    for (let i = 0; i < 3; i++) {
      expect((await client().call('POST', '/auth/signup', { email: target, password: PASSWORD })).status).toBe(201);
    }
    await expectError(
      await client().call('POST', '/auth/signup', { email: target, password: PASSWORD }),
      429,
      'rate_limited',
    );
    // A verification link and two "you already have an account" notes; the refused fourth sent nothing.
    await until('three sign-up mails', async () => (await mailsTo(stack.url, target)).length >= 3);
    const mails = await mailsTo(stack.url, target);
    for (const mail of mails) if (/verify/i.test(mail.subject)) token(mail);
    expect(mails).toHaveLength(3);
  });

  /** An organisation with two owners, each signed in from their own network. */
  async function twoOwners(label: string) {
    const first = await signedUp(stack.url, label);
    const secondEmail = unique(`${label}-second`);
    await first.api.expect('POST', '/invitations', { email: secondEmail, role: 'admin' }, 201);
    const second = client();
    const joined = MeResponse.parse(
      await second.expect(
        'POST',
        '/invitations/accept',
        { token: token(await mailTo(stack.url, secondEmail)), password: PASSWORD },
        200,
      ),
    );
    await first.api.expect('PATCH', `/members/${joined.user.id}`, { role: 'owner' }, 200);
    return { first: first.api, firstId: first.userId, second, secondId: joined.user.id };
  }

  it('two owners demoting each other at once leave the organisation one owner, and the loser a 403 (13)', async () => {
    const orgs = await Promise.all([0, 1, 2].map((i) => twoOwners(`duel${i}`)));
    const answers = await Promise.all(
      orgs.map(({ first, firstId, second, secondId }) =>
        Promise.all([
          first.call('PATCH', `/members/${secondId}`, { role: 'admin' }),
          second.call('PATCH', `/members/${firstId}`, { role: 'admin' }),
        ]),
      ),
    );
    for (const [i, pair] of answers.entries()) {
      expect(pair.map((r) => r.status).sort()).toEqual([200, 403]);
      const loser = pair.find((r) => r.status === 403) as Response;
      expect(await errorCode(loser)).toBe('insufficient_role');
      const org = orgs[i] as (typeof orgs)[number];
      const { members } = MemberList.parse(await org.first.expect('GET', '/members', undefined, 200));
      expect(members.filter((m) => m.role === 'owner')).toHaveLength(1);
    }
  });

  it('two accepts of one invitation at once: one account in the organisation, one token_used, no 500 (13)', async () => {
    const { api: inviter } = await signedUp(stack.url, 'inviter');
    const invitee = unique('invitee');
    await inviter.expect('POST', '/invitations', { email: invitee, role: 'viewer' }, 201);
    const invitation = token(await mailTo(stack.url, invitee));
    const answers = await Promise.all(
      [0, 1].map(() => client().call('POST', '/invitations/accept', { token: invitation, password: PASSWORD })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([200, 400]);
    expect(await errorCode(answers.find((r) => r.status === 400) as Response)).toBe('token_used');
    const me = MeResponse.parse(
      await client().expect('POST', '/auth/login', { email: invitee, password: PASSWORD }, 200),
    );
    expect(me.organizations).toHaveLength(1);
  });

  it('two accounts confirming a move to one address at once: one gets it, the other 409 email_taken (13)', async () => {
    const target = unique('contested');
    const movers = await Promise.all([0, 1].map((i) => signedUp(stack.url, `mover${i}`)));
    for (const { api } of movers) {
      await api.expect('POST', '/auth/email/change', { newEmail: target, password: PASSWORD }, 202);
    }
    await until('both change links', async () => (await mailsTo(stack.url, target)).length >= 2);
    const links = (await mailsTo(stack.url, target)).map(token);
    const answers = await Promise.all(links.map((t) => client().call('POST', '/auth/verify', { token: t })));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(await errorCode(answers.find((r) => r.status === 409) as Response)).toBe('email_taken');
  });

  // Last: it stops the database under the running Worker.
  it('with the database gone, answers alike for known and unknown addresses, and no address, token or parameter reaches the logs (11, 15)', async () => {
    const { email: known } = await signedUp(stack.url, 'outage');
    token(await mailTo(stack.url, known)); // its verification link: one token the logs must not hold
    const unknown = unique('outage-nobody');
    await stack.database.stop();
    databaseStopped = true;

    // The lookup happens after the answer: with nothing to look in, both addresses still get the same one.
    const answers = [];
    for (const email of [known, unknown]) {
      const api = client();
      const forgot = await api.call('POST', '/auth/password/forgot', { email });
      const signup = await api.call('POST', '/auth/signup', { email, password: PASSWORD });
      answers.push([forgot.status, await forgot.json(), signup.status, await signup.json()]);
    }
    expect(answers[0]?.[0]).toBe(202);
    expect(answers[0]?.[2]).toBe(201);
    expect(answers[1]).toEqual(answers[0]);

    // A request that needs the database itself fails, as a typed error that says nothing of the address.
    const login = await client().call('POST', '/auth/login', { email: known, password: PASSWORD });
    const loginText = await login.text();
    expect(login.status, loginText).toBeGreaterThanOrEqual(500);
    expect(['internal_error', 'service_unavailable']).toContain(ApiErrorBody.parse(JSON.parse(loginText)).error.code);
    expect(loginText).not.toContain(known);

    // Each deferred lookup fails its three attempts and logs the failed query: its shape, never its values.
    const failures = () => stack.worker.output().match(/"message":"deferred work failed"/g)?.length ?? 0;
    await until('the deferred work to give up and log it', () => failures() >= 4, 30_000);
    const lines = stack.worker.output().split('\n');
    const holding = (text: string) => lines.filter((line) => line.includes(text));
    // Nothing this run sent: no address (every one is @example.com), password or e-mailed token.
    expect(holding('@example.com')).toEqual([]);
    expect(holding(PASSWORD)).toEqual([]);
    expect([...tokens].flatMap(holding)).toEqual([]);
    // What is logged instead: the failed query's shape.
    expect(holding('"message":"unhandled error"').join('\n')).toMatch(/"query":"select .* from \\"users\\"/);
    expect(holding('"message":"deferred work failed"').join('\n')).toMatch(/"query":"select .* from \\"users\\"/);
    expect(tokens.size).toBeGreaterThan(0);
  });
});
