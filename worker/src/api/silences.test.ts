import { Silence, SilenceList } from '@pulsewire/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Org, orgWithMembers, tenantObjectState, withDb } from '../../test/alerting.ts';
import { signedUpClient, type TestClient } from '../../test/client.ts';
import { isolatedEnv } from '../../test/support.ts';
import { silences } from '../db/schema.ts';
import type { Env } from '../env.ts';

const inHours = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();
const silence = (extra: Record<string, unknown> = {}) => ({
  matchers: [
    { name: 'host_name', op: '=', value: 'db-1' },
    { name: 'rule_name', op: '=~', value: 'Disk.*' },
  ],
  endsAt: inHours(2),
  comment: 'Resizing the volume',
  ...extra,
});

async function listed(client: TestClient) {
  const res = await client.get('/api/v1/silences');
  expect(res.status).toBe(200);
  return SilenceList.parse(await res.json()).silences;
}

describe('silences', () => {
  let env: Env;
  let org: Org;
  let other: TestClient;
  beforeAll(async () => {
    env = await isolatedEnv();
    org = await orgWithMembers(env, 'silences');
    ({ client: other } = await signedUpClient(env, 'silences-other'));
  });

  it('admins create silences (active now, or pending), members and read keys list them', async () => {
    const version = (await tenantObjectState(env, org.tenantId)).alertConfigVersion;
    const res = await org.admin.post('/api/v1/silences', silence());
    expect(res.status).toBe(201);
    const active = Silence.parse(await res.json());
    expect(active).toMatchObject({ state: 'active', comment: 'Resizing the volume', matchers: silence().matchers });
    expect(active.createdBy).toMatch(/@example\.com$/);
    expect(Math.abs(Date.parse(active.startsAt) - Date.now())).toBeLessThan(60_000);

    const later = Silence.parse(
      await (await org.owner.post('/api/v1/silences', silence({ startsAt: inHours(1), endsAt: inHours(3) }))).json(),
    );
    expect(later.state).toBe('pending');
    expect((await tenantObjectState(env, org.tenantId)).alertConfigVersion).toBe(version + 2);

    expect((await listed(org.viewer)).map((s) => s.id)).toEqual([later.id, active.id]);
    const byKey = await org.owner.request('GET', '/api/v1/silences', undefined, org.readKey);
    expect(SilenceList.parse(await byKey.json()).silences).toHaveLength(2);
    expect(await listed(other)).toEqual([]);
  });

  it('expires a silence on DELETE, which stays listed; only admins may, only their own organisation', async () => {
    const created = Silence.parse(await (await org.owner.post('/api/v1/silences', silence())).json());
    await expectError(await org.viewer.delete(`/api/v1/silences/${created.id}`), 403, 'insufficient_role');
    await expectError(await org.viewer.post('/api/v1/silences', silence()), 403, 'insufficient_role');
    await expectError(await other.delete(`/api/v1/silences/${created.id}`), 404, 'not_found');
    await expectError(await org.owner.delete(`/api/v1/silences/${crypto.randomUUID()}`), 404, 'not_found');

    const res = await org.admin.delete(`/api/v1/silences/${created.id}`);
    expect(res.status).toBe(200);
    const expired = Silence.parse(await res.json());
    expect(expired.state).toBe('expired');
    expect(Date.parse(expired.endsAt)).toBeLessThanOrEqual(Date.now());
    expect((await listed(org.owner)).find((s) => s.id === created.id)?.state).toBe('expired');
    // Again: nothing changes.
    const again = Silence.parse(await (await org.admin.delete(`/api/v1/silences/${created.id}`)).json());
    expect(again.endsAt).toBe(expired.endsAt);

    // A pending silence expired early never starts after it ends.
    const pending = Silence.parse(
      await (await org.owner.post('/api/v1/silences', silence({ startsAt: inHours(5), endsAt: inHours(6) }))).json(),
    );
    const gone = Silence.parse(await (await org.owner.delete(`/api/v1/silences/${pending.id}`)).json());
    expect(gone.state).toBe('expired');
    expect(Date.parse(gone.startsAt)).toBeLessThanOrEqual(Date.parse(gone.endsAt));
  });

  it('answers bad silences with 422 and the field', async () => {
    const cases: [unknown, string, string][] = [
      [silence({ matchers: [] }), 'validation_failed', 'json.matchers'],
      [silence({ matchers: [{ name: 'host', op: '=~', value: '(' }] }), 'invalid_selector', 'json.matchers.0.value'],
      [silence({ matchers: [{ name: 'host', op: '~', value: 'x' }] }), 'validation_failed', 'json.matchers.0.op'],
      [silence({ endsAt: inHours(-1) }), 'validation_failed', 'json.endsAt'],
      [silence({ startsAt: inHours(3), endsAt: inHours(2) }), 'validation_failed', 'json.endsAt'],
      [silence({ comment: '   ' }), 'validation_failed', 'json.comment'],
      [silence({ comment: 'ok\u0000' }), 'validation_failed', 'json.comment'],
      [silence({ comment: '\uDBFF' }), 'validation_failed', 'json.comment'],
      [
        silence({ matchers: [{ name: 'host', op: '=', value: 'x\uD800' }] }),
        'validation_failed',
        'json.matchers.0.value',
      ],
      [silence({ matchers: [{ name: '\u0000', op: '=', value: 'x' }] }), 'validation_failed', 'json.matchers.0.name'],
    ];
    const before = (await listed(org.owner)).length;
    for (const [body, code, path] of cases) {
      await expectError(await org.owner.request('POST', '/api/v1/silences', body), 422, code, path).catch(
        (e: Error) => {
          throw new Error(`${JSON.stringify(body)}: ${e.message}`);
        },
      );
    }
    expect((await listed(org.owner)).length).toBe(before);
  });

  it('keeps an organisation to 500 current silences (409 too_many_silences); expired ones do not count', async () => {
    const env2 = await isolatedEnv();
    const { client: owner } = await signedUpClient(env2, 'many-silences');
    const tenantId = ((await (await owner.get('/api/v1/me')).json()) as { organization: { id: string } }).organization
      .id;
    const row = (endsAt: Date) => ({
      tenantId,
      matchers: [{ name: 'host', op: '=' as const, value: 'x' }],
      startsAt: new Date(Date.now() - 3600_000),
      endsAt,
      comment: 'filler',
    });
    await withDb(env2, (db) =>
      db
        .insert(silences)
        .values([
          ...Array.from({ length: 499 }, () => row(new Date(Date.now() + 3600_000))),
          ...Array.from({ length: 20 }, () => row(new Date(Date.now() - 60_000))),
        ]),
    );
    expect((await owner.post('/api/v1/silences', silence())).status).toBe(201);
    await expectError(await owner.post('/api/v1/silences', silence()), 409, 'too_many_silences');
  });
});
