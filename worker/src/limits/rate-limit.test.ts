import { ApiErrorBody } from '@pulsewire/protocol';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mailsTo, signedUpClient, TestClient, uniqueEmail } from '../../test/client.ts';
import { callWorker, isolatedEnv } from '../../test/support.ts';
import { databaseProbe } from '../api/health.ts';
import type { Env } from '../env.ts';
import { ipSubject, RATE_LIMITS } from './rate-limit.ts';

const error = async (res: Response) => ApiErrorBody.parse(await res.json()).error;
const from = (ip: string) => new Request('http://pulsewire.test/', { headers: { 'CF-Connecting-IP': ip } });
const WRONG = 'not the password at all';
/** Nothing listens on port 9: any request that reaches for the database fails with 5xx. */
const unreachable = (env: Env): Env => ({ ...env, DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none' });

describe('what a per-IP limit counts', () => {
  it('an IPv4 address, the /64 of an IPv6 one, and a mapped IPv4 as itself', () => {
    expect(ipSubject(from('203.0.113.7'))).toBe('203.0.113.7');
    expect(ipSubject(from('2001:db8:1:2::1'))).toBe('2001:db8:1:2::/64');
    expect(ipSubject(from('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'))).toBe('2001:db8:1:2::/64');
    expect(ipSubject(from('2001:db8:1:3::1'))).toBe('2001:db8:1:3::/64');
    expect(ipSubject(from('::ffff:203.0.113.7'))).toBe('203.0.113.7');
  });
});

describe('rate limits', () => {
  let env: Env;
  beforeAll(async () => {
    env = await isolatedEnv();
  });
  afterEach(() => vi.restoreAllMocks());

  it('sign-in: a guesser on one network is stopped with a clear message; the owner elsewhere still signs in', async () => {
    const { email, password } = await signedUpClient(env, 'target');
    // Two addresses of one IPv6 /64 are one network.
    const a = new TestClient(env, '2001:db8:aa:1::1');
    const b = new TestClient(env, '2001:db8:aa:1::beef');
    for (let i = 0; i < RATE_LIMITS.loginPair.limit; i++) {
      expect((await (i % 2 ? a : b).post('/api/v1/auth/login', { email, password: WRONG })).status).toBe(401);
    }
    const refused = await a.post('/api/v1/auth/login', { email, password });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect((await error(refused)).message).toMatch(/^Too many sign-in attempts: try again in \d+ minutes, or reset/);
    expect((await new TestClient(env, '198.51.100.20').post('/api/v1/auth/login', { email, password })).status).toBe(
      200,
    );
  });

  it('sign-in: guesses spread over many networks meet a per-account backstop', async () => {
    const { email, password } = await signedUpClient(env, 'spread');
    for (let i = 0; i < RATE_LIMITS.loginAccount.limit; i++) {
      await new TestClient(env).post('/api/v1/auth/login', { email, password: WRONG });
    }
    expect((await new TestClient(env).post('/api/v1/auth/login', { email, password })).status).toBe(429);
  });

  it('sign-up mails one address at most a few times an hour, whoever asks', async () => {
    const email = uniqueEmail('mailbox');
    const answers = [];
    for (let i = 0; i <= RATE_LIMITS.signupRecipient.limit; i++) {
      answers.push((await new TestClient(env).post('/api/v1/auth/signup', { email, password: WRONG })).status);
    }
    expect(answers).toEqual([201, 201, 201, 429]);
    expect(await mailsTo(env, email)).toHaveLength(RATE_LIMITS.signupRecipient.limit);
  });

  it('unknown API keys: past the limit an IP is refused before the database is asked', async () => {
    const { client } = await signedUpClient(env, 'keyed');
    const { secret } = (await (await client.post('/api/v1/keys', { name: 'script', scope: 'read' })).json()) as {
      secret: string;
    };
    const sprayer = new TestClient(env, '192.0.2.99');
    const bogus = () => `pw_live_${crypto.randomUUID().replaceAll('-', '')}`;
    for (let i = 0; i < RATE_LIMITS.apiKeyFailures.limit; i++) {
      const res = await sprayer.request('GET', '/api/v1/hosts', undefined, { Authorization: `Bearer ${bogus()}` });
      expect(res.status).toBe(401);
    }
    const blocked = new TestClient(unreachable(env), sprayer.ip);
    const res = await blocked.request('GET', '/api/v1/hosts', undefined, { Authorization: `Bearer ${secret}` });
    expect(res.status).toBe(429);
    const elsewhere = await new TestClient(env).request('GET', '/api/v1/hosts', undefined, {
      Authorization: `Bearer ${secret}`,
    });
    expect(elsewhere.status).toBe(200);
  });

  it('e-mailed link tokens are looked up a limited number of times per IP', async () => {
    const guesser = new TestClient(env, '192.0.2.150');
    for (let i = 0; i < RATE_LIMITS.linkToken.limit; i++) {
      const path = ['/api/v1/auth/verify', '/api/v1/auth/password/reset', '/api/v1/invitations/accept'][
        i % 3
      ] as string;
      const res = await guesser.post(path, { token: 'x'.repeat(43), password: 'a long password 1' });
      expect(res.status).toBe(400);
    }
    const res = await new TestClient(unreachable(env), guesser.ip).post('/api/v1/auth/verify', {
      token: 'y'.repeat(43),
    });
    expect(res.status).toBe(429);
  });

  it('health checks reuse a recent probe instead of opening a connection each', async () => {
    const fresh = await isolatedEnv();
    const probe = vi.spyOn(databaseProbe, 'run');
    for (let i = 0; i < 5; i++) expect((await callWorker(fresh, '/api/v1/health')).status).toBe(200);
    expect(probe).toHaveBeenCalledTimes(1);
  });
});
