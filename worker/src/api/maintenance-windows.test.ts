import { MaintenanceWindow, MaintenanceWindowList, type Weekday } from '@pulsewire/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Org, orgWithMembers, tenantObjectState, withDb } from '../../test/alerting.ts';
import { signedUpClient, type TestClient } from '../../test/client.ts';
import { isolatedEnv } from '../../test/support.ts';
import { maintenanceWindows } from '../db/schema.ts';
import type { Env } from '../env.ts';

const everyDay: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const sundays = {
  name: 'Sunday patching',
  timeZone: 'Europe/Paris',
  days: ['sun'],
  start: '02:00',
  durationMinutes: 120,
  matchers: [{ name: 'env', op: '=', value: 'prod' }],
};

async function listed(client: TestClient) {
  const res = await client.get('/api/v1/maintenance-windows');
  expect(res.status).toBe(200);
  return MaintenanceWindowList.parse(await res.json()).windows;
}

describe('maintenance windows', () => {
  let env: Env;
  let org: Org;
  let other: TestClient;
  beforeAll(async () => {
    env = await isolatedEnv();
    org = await orgWithMembers(env, 'windows');
    ({ client: other } = await signedUpClient(env, 'windows-other'));
  });

  it('admins create, change and delete windows; members and read keys list them with activeNow', async () => {
    const version = (await tenantObjectState(env, org.tenantId)).alertConfigVersion;
    await expectError(await org.viewer.post('/api/v1/maintenance-windows', sundays), 403, 'insufficient_role');
    const res = await org.admin.post('/api/v1/maintenance-windows', sundays);
    expect(res.status).toBe(201);
    const created = MaintenanceWindow.parse(await res.json());
    expect(created).toMatchObject({ ...sundays, enabled: true });

    // Open now: every day, started a minute ago in UTC, for two hours.
    const now = new Date(Date.now() - 60_000);
    const hhmm = `${String(now.getUTCHours()).padStart(2, '0')}:${String(now.getUTCMinutes()).padStart(2, '0')}`;
    const open = MaintenanceWindow.parse(
      await (
        await org.owner.post('/api/v1/maintenance-windows', {
          name: 'All day',
          timeZone: 'UTC',
          days: everyDay,
          start: hhmm,
          durationMinutes: 120,
        })
      ).json(),
    );
    expect(open).toMatchObject({ activeNow: true, matchers: [] });

    const byKey = await org.owner.request('GET', '/api/v1/maintenance-windows', undefined, org.readKey);
    expect(MaintenanceWindowList.parse(await byKey.json()).windows.map((w) => w.name)).toEqual([
      'All day',
      'Sunday patching',
    ]);
    expect(await listed(other)).toEqual([]);

    // PATCH the fields given; the rest stays.
    await expectError(
      await org.viewer.patch(`/api/v1/maintenance-windows/${open.id}`, { enabled: false }),
      403,
      'insufficient_role',
    );
    const patched = MaintenanceWindow.parse(
      await (await org.admin.patch(`/api/v1/maintenance-windows/${open.id}`, { enabled: false })).json(),
    );
    expect(patched).toMatchObject({ enabled: false, activeNow: false, start: hhmm, days: everyDay });

    await expectError(await other.patch(`/api/v1/maintenance-windows/${open.id}`, { name: 'x' }), 404, 'not_found');
    await expectError(await other.delete(`/api/v1/maintenance-windows/${open.id}`), 404, 'not_found');
    await expectError(await org.viewer.delete(`/api/v1/maintenance-windows/${open.id}`), 403, 'insufficient_role');
    expect((await org.owner.delete(`/api/v1/maintenance-windows/${open.id}`)).status).toBe(200);
    expect((await listed(org.owner)).map((w) => w.id)).toEqual([created.id]);
    expect((await tenantObjectState(env, org.tenantId)).alertConfigVersion).toBe(version + 4);
  });

  it('answers bad windows with 422 and the field, on create and on change', async () => {
    const cases: [unknown, string, string][] = [
      [{ ...sundays, timeZone: 'Europe/Atlantis' }, 'invalid_time_zone', 'json.timeZone'],
      [{ ...sundays, timeZone: 'Europe/Paris\u0000' }, 'invalid_time_zone', 'json.timeZone'],
      [{ ...sundays, start: '24:00' }, 'validation_failed', 'json.start'],
      [{ ...sundays, days: [] }, 'validation_failed', 'json.days'],
      [{ ...sundays, days: ['someday'] }, 'validation_failed', 'json.days.0'],
      [{ ...sundays, durationMinutes: 0 }, 'validation_failed', 'json.durationMinutes'],
      [{ ...sundays, name: 'x\u0000' }, 'validation_failed', 'json.name'],
      [{ ...sundays, name: '\uD800' }, 'validation_failed', 'json.name'],
      [{ ...sundays, matchers: [{ name: 'env', op: '!~', value: '[' }] }, 'invalid_selector', 'json.matchers.0.value'],
    ];
    const before = (await listed(org.owner)).length;
    for (const [body, code, path] of cases) {
      await expectError(await org.owner.request('POST', '/api/v1/maintenance-windows', body), 422, code, path).catch(
        (e: Error) => {
          throw new Error(`${JSON.stringify(body)}: ${e.message}`);
        },
      );
    }
    expect((await listed(org.owner)).length).toBe(before);
    const [target] = await listed(org.owner);
    await expectError(
      await org.owner.patch(`/api/v1/maintenance-windows/${target?.id}`, { timeZone: 'Nowhere/Else' }),
      422,
      'invalid_time_zone',
      'json.timeZone',
    );
    expect((await listed(org.owner))[0]).toEqual(target);
  });

  it('keeps an organisation to 100 windows (409 too_many_maintenance_windows)', async () => {
    const env2 = await isolatedEnv();
    const { client: owner } = await signedUpClient(env2, 'many-windows');
    const tenantId = ((await (await owner.get('/api/v1/me')).json()) as { organization: { id: string } }).organization
      .id;
    await withDb(env2, (db) =>
      db.insert(maintenanceWindows).values(
        Array.from({ length: 99 }, (_, i) => ({
          tenantId,
          name: `w${i}`,
          timeZone: 'UTC',
          days: ['sun' as const],
          start: '02:00',
          durationMinutes: 60,
        })),
      ),
    );
    expect((await owner.post('/api/v1/maintenance-windows', sundays)).status).toBe(201);
    await expectError(await owner.post('/api/v1/maintenance-windows', sundays), 409, 'too_many_maintenance_windows');
  });
});
