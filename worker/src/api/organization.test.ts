import { ApiErrorBody, ApiKeyList, CreatedApiKey, MemberList, MeResponse } from '@pulsewire/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { lastMailTo, signedUpClient, TestClient, uniqueEmail } from '../../test/client.ts';
import { isolatedEnv } from '../../test/support.ts';
import type { Env } from '../env.ts';

const errorCode = async (res: Response) => ApiErrorBody.parse(await res.json()).error.code;

/** Owner invites `email` as `role`; the invitee, a new user, accepts with a password. */
async function inviteNewUser(env: Env, owner: TestClient, role: 'admin' | 'viewer') {
  const email = uniqueEmail(role);
  const res = await owner.post('/api/v1/invitations', { email, role });
  expect(res.status).toBe(201);
  const { token } = await lastMailTo(env, email);
  const invitee = new TestClient(env);
  const accept = await invitee.post('/api/v1/invitations/accept', {
    token,
    password: 'invitee password 1',
    name: role,
  });
  expect(accept.status).toBe(200);
  return { invitee, email, me: MeResponse.parse(await accept.json()) };
}

describe('API keys', () => {
  let env: Env;
  beforeAll(async () => {
    env = await isolatedEnv();
  });

  it('shows the secret once, stores it hashed, lists by prefix, and revokes', async () => {
    const { client } = await signedUpClient(env, 'keys');
    const res = await client.post('/api/v1/keys', { name: 'laptop agent', scope: 'ingest' });
    expect(res.status).toBe(201);
    const { key, secret } = CreatedApiKey.parse(await res.json());
    expect(secret).toMatch(/^pw_live_[\w-]{32}$/);
    expect(key.prefix).toBe(secret.slice(0, 14));

    const list = ApiKeyList.parse(await (await client.get('/api/v1/keys')).json());
    expect(list.keys.map((k) => k.id)).toEqual([key.id]);
    expect(JSON.stringify(list)).not.toContain(secret);

    expect((await client.delete(`/api/v1/keys/${key.id}`)).status).toBe(200);
    expect(ApiKeyList.parse(await (await client.get('/api/v1/keys')).json()).keys).toEqual([]);
    expect((await client.delete(`/api/v1/keys/${key.id}`)).status).toBe(404);
  });

  it('lets a read key call the API as a viewer, and refuses it once revoked', async () => {
    const { client } = await signedUpClient(env, 'reader');
    const { key, secret } = CreatedApiKey.parse(
      await (await client.post('/api/v1/keys', { name: 'script', scope: 'read' })).json(),
    );
    const script = new TestClient(env);
    const members = await script.request('GET', '/api/v1/members', undefined, { Authorization: `Bearer ${secret}` });
    expect(members.status).toBe(200);
    expect(MemberList.parse(await members.json()).members).toHaveLength(1);
    const write = await script.request(
      'POST',
      '/api/v1/keys',
      { name: 'x', scope: 'read' },
      { Authorization: `Bearer ${secret}` },
    );
    expect(write.status).toBe(403);

    await client.delete(`/api/v1/keys/${key.id}`);
    const after = await script.request('GET', '/api/v1/members', undefined, { Authorization: `Bearer ${secret}` });
    expect(after.status).toBe(401);
    expect(await errorCode(after)).toBe('key_revoked');
  });

  it('refuses ingest keys on the read API and garbage bearer tokens', async () => {
    const { client } = await signedUpClient(env, 'ingest');
    const { secret } = CreatedApiKey.parse(
      await (await client.post('/api/v1/keys', { name: 'agent', scope: 'ingest' })).json(),
    );
    const script = new TestClient(env);
    const res = await script.request('GET', '/api/v1/members', undefined, { Authorization: `Bearer ${secret}` });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('wrong_key_scope');
    const bogus = await script.request('GET', '/api/v1/members', undefined, { Authorization: 'Bearer pw_live_nope' });
    expect(bogus.status).toBe(401);
  });
});

describe('members and invitations', () => {
  let env: Env;
  beforeAll(async () => {
    env = await isolatedEnv();
  });

  it('invites a new user who joins as a viewer and sees the organisation', async () => {
    const { client: owner } = await signedUpClient(env, 'boss');
    const ownerMe = MeResponse.parse(await (await owner.get('/api/v1/me')).json());
    const { invitee, me, email } = await inviteNewUser(env, owner, 'viewer');
    expect(me.organization).toMatchObject({ id: ownerMe.organization.id, role: 'viewer' });
    expect(me.user).toMatchObject({ email, emailVerified: true });
    const members = MemberList.parse(await (await invitee.get('/api/v1/members')).json()).members;
    expect(members.map((m) => m.role).sort()).toEqual(['owner', 'viewer']);
    // A viewer cannot manage keys or invite.
    expect((await invitee.post('/api/v1/keys', { name: 'x', scope: 'read' })).status).toBe(403);
    expect((await invitee.post('/api/v1/invitations', { email: uniqueEmail(), role: 'viewer' })).status).toBe(403);
  });

  it('refuses a used, revoked or expired-looking invitation with a clear code', async () => {
    const { client: owner } = await signedUpClient(env, 'inv');
    const { invitee } = await inviteNewUser(env, owner, 'viewer');
    const email = uniqueEmail('revoked');
    const created = await owner.post('/api/v1/invitations', { email, role: 'admin' });
    const { id } = (await created.json()) as { id: string };
    const { token } = await lastMailTo(env, email);
    expect((await owner.delete(`/api/v1/invitations/${id}`)).status).toBe(200);
    const revoked = await new TestClient(env).post('/api/v1/invitations/accept', {
      token,
      password: 'some password 1',
    });
    expect(await errorCode(revoked)).toBe('invitation_revoked');
    const reuse = await invitee.post('/api/v1/invitations/accept', { token: 'A'.repeat(43) });
    expect(await errorCode(reuse)).toBe('token_invalid');
  });

  it('lets an existing user accept while signed in, and switch organisations', async () => {
    const { client: owner } = await signedUpClient(env, 'org-a');
    const { client: other, email } = await signedUpClient(env, 'org-b');
    await owner.post('/api/v1/invitations', { email, role: 'admin' });
    const { token } = await lastMailTo(env, email);
    const anon = await new TestClient(env).post('/api/v1/invitations/accept', { token, password: 'whatever pass 1' });
    expect(await errorCode(anon)).toBe('sign_in_required');
    const accepted = MeResponse.parse(await (await other.post('/api/v1/invitations/accept', { token })).json());
    expect(accepted.organizations).toHaveLength(2);
    expect(accepted.organization.role).toBe('admin');
    const own = accepted.organizations.find((o) => o.role === 'owner');
    const switched = await other.post('/api/v1/organizations/switch', { organizationId: own?.id });
    expect(MeResponse.parse(await switched.json()).organization.id).toBe(own?.id);
  });

  it('keeps the last owner: cannot leave, be demoted or removed', async () => {
    const { client: owner } = await signedUpClient(env, 'solo');
    const me = MeResponse.parse(await (await owner.get('/api/v1/me')).json());
    const leave = await owner.delete(`/api/v1/members/${me.user.id}`);
    expect(leave.status).toBe(409);
    expect(await errorCode(leave)).toBe('last_owner');
    const demote = await owner.patch(`/api/v1/members/${me.user.id}`, { role: 'viewer' });
    expect(await errorCode(demote)).toBe('last_owner');
  });

  it('lets admins remove viewers but not owners; a viewer can leave', async () => {
    const { client: owner } = await signedUpClient(env, 'team');
    const ownerMe = MeResponse.parse(await (await owner.get('/api/v1/me')).json());
    const admin = await inviteNewUser(env, owner, 'admin');
    const viewer = await inviteNewUser(env, owner, 'viewer');
    expect((await admin.invitee.delete(`/api/v1/members/${ownerMe.user.id}`)).status).toBe(403);
    expect((await admin.invitee.patch(`/api/v1/members/${viewer.me.user.id}`, { role: 'owner' })).status).toBe(403);
    expect((await viewer.invitee.delete(`/api/v1/members/${admin.me.user.id}`)).status).toBe(403);
    expect((await viewer.invitee.delete(`/api/v1/members/${viewer.me.user.id}`)).status).toBe(200);
    const members = MemberList.parse(await (await owner.get('/api/v1/members')).json()).members;
    expect(members.map((m) => m.userId)).not.toContain(viewer.me.user.id);
    expect((await viewer.invitee.get('/api/v1/me')).status).toBe(403);
  });

  it('deletes an organisation with its data, but never your only one', async () => {
    const { client } = await signedUpClient(env, 'deleter');
    const only = await client.delete('/api/v1/organizations/current');
    expect(await errorCode(only)).toBe('only_organization');
    const second = MeResponse.parse(
      await (await client.post('/api/v1/organizations', { name: 'Side project' })).json(),
    );
    expect(second.organization).toMatchObject({ name: 'Side project', role: 'owner' });
    const { key } = CreatedApiKey.parse(await (await client.post('/api/v1/keys', { name: 'k', scope: 'read' })).json());
    expect((await client.delete('/api/v1/organizations/current')).status).toBe(200);
    const me = MeResponse.parse(await (await client.get('/api/v1/me')).json());
    expect(me.organizations.map((o) => o.id)).not.toContain(second.organization.id);
    expect((await client.delete(`/api/v1/keys/${key.id}`)).status).toBe(404);
  });
});
