import { MemberList, MeResponse } from '@pulsewire/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { lastMailTo, mailsTo, signedUpClient, TestClient, uniqueEmail } from '../../test/client.ts';
import { isolatedEnv } from '../../test/support.ts';
import type { Env } from '../env.ts';

const PASSWORD = 'correct horse battery staple';

/** An organisation with two owners, each signed in. */
async function twoOwners(env: Env, label: string) {
  const { client: first } = await signedUpClient(env, label);
  const email = uniqueEmail(`${label}-second`);
  await first.post('/api/v1/invitations', { email, role: 'admin' });
  const second = new TestClient(env);
  const accepted = await second.post('/api/v1/invitations/accept', {
    token: (await lastMailTo(env, email)).token,
    password: PASSWORD,
  });
  const secondId = MeResponse.parse(await accepted.json()).user.id;
  expect((await first.patch(`/api/v1/members/${secondId}`, { role: 'owner' })).status).toBe(200);
  const firstId = MeResponse.parse(await (await first.get('/api/v1/me')).json()).user.id;
  return { first, firstId, second, secondId };
}

async function owners(client: TestClient): Promise<number> {
  const { members } = MemberList.parse(await (await client.get('/api/v1/members')).json());
  return members.filter((m) => m.role === 'owner').length;
}

/**
 * Requests that race each other for the same rows, sent at once. Each must come out as if they had
 * run one after the other: one wins, the others get a 4xx, never a 500 or a half-done change.
 */
describe('concurrent requests', () => {
  let env: Env;
  beforeAll(async () => {
    env = await isolatedEnv();
  });

  it('two owners demoting, or removing, each other at once leave the organisation one owner', async () => {
    const orgs = await Promise.all([0, 1, 2].map((i) => twoOwners(env, `duel${i}`)));
    const demotions = await Promise.all(
      orgs.map(({ first, firstId, second, secondId }) =>
        Promise.all([
          first.patch(`/api/v1/members/${secondId}`, { role: 'admin' }),
          second.patch(`/api/v1/members/${firstId}`, { role: 'admin' }),
        ]),
      ),
    );
    for (const [i, answers] of demotions.entries()) {
      expect(answers.map((r) => r.status).sort()).toEqual([200, 403]);
      const org = orgs[i] as (typeof orgs)[number];
      const winner = answers[0]?.status === 200 ? org.first : org.second;
      expect(await owners(winner)).toBe(1);
    }

    const more = await Promise.all([0, 1, 2].map((i) => twoOwners(env, `purge${i}`)));
    const removals = await Promise.all(
      more.map(({ first, firstId, second, secondId }) =>
        Promise.all([first.delete(`/api/v1/members/${secondId}`), second.delete(`/api/v1/members/${firstId}`)]),
      ),
    );
    for (const [i, answers] of removals.entries()) {
      expect(answers.map((r) => r.status).sort()).toEqual([200, 403]);
      const org = more[i] as (typeof more)[number];
      const winner = answers[0]?.status === 200 ? org.first : org.second;
      expect(await owners(winner)).toBe(1);
    }
  });

  it('two accepts of one invitation at once: one account with its organisation, one token_used', async () => {
    for (let round = 0; round < 3; round++) {
      const { client: owner } = await signedUpClient(env, `inviter${round}`);
      const email = uniqueEmail('twice');
      await owner.post('/api/v1/invitations', { email, role: 'viewer' });
      const { token } = await lastMailTo(env, email);
      const answers = await Promise.all(
        [0, 1].map(() => new TestClient(env).post('/api/v1/invitations/accept', { token, password: PASSWORD })),
      );
      expect(answers.map((r) => r.status).sort()).toEqual([200, 400]);
      const login = await new TestClient(env).post('/api/v1/auth/login', { email, password: PASSWORD });
      expect(login.status).toBe(200);
      expect(MeResponse.parse(await login.json()).organizations).toHaveLength(1);
    }
  });

  it('two accounts confirming a move to the same address at once: one gets it, the other 409', async () => {
    for (let round = 0; round < 3; round++) {
      const target = uniqueEmail('contested');
      const movers = await Promise.all([0, 1].map((i) => signedUpClient(env, `mover${round}${i}`)));
      for (const { client, password } of movers) {
        expect((await client.post('/api/v1/auth/email/change', { newEmail: target, password })).status).toBe(202);
      }
      const links = await mailsTo(env, target);
      expect(links).toHaveLength(2);
      const answers = await Promise.all(
        links.map(({ token }) => new TestClient(env).post('/api/v1/auth/verify', { token })),
      );
      expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    }
  });
});
