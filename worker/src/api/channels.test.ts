import { Channel, ChannelCreated, ChannelList, DeliveryList, Rule } from '@pulsewire/protocol';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Org, orgWithMembers, tenantObjectState, withDb } from '../../test/alerting.ts';
import { signedUpClient, TestClient } from '../../test/client.ts';
import { isolatedEnv } from '../../test/support.ts';
import { notificationChannels, notificationDeliveries } from '../db/schema.ts';
import type { Env } from '../env.ts';

const SLACK_URL = 'https://hooks.slack.com/services/T0000/B0000/abcdefghijklmnopqrstWXYZ';
const slackChannel = { name: 'Ops Slack', config: { type: 'slack', webhookUrl: SLACK_URL } };
const webhookChannel = {
  name: 'Pager',
  minLevel: 'critical',
  config: { type: 'webhook', url: 'https://hooks.example.com/pw' },
};

async function channels(client: TestClient) {
  const res = await client.get('/api/v1/channels');
  expect(res.status).toBe(200);
  return ChannelList.parse(await res.json()).channels;
}

async function storedChannel(env: Env, id: string) {
  const [row] = await withDb(env, (db) =>
    db.select().from(notificationChannels).where(eq(notificationChannels.id, id)),
  );
  if (!row) throw new Error('no channel row');
  return row;
}

describe('notification channels', () => {
  let env: Env;
  let org: Org;
  let other: TestClient;
  beforeAll(async () => {
    env = await isolatedEnv();
    org = await orgWithMembers(env, 'channels');
    ({ client: other } = await signedUpClient(env, 'channels-other'));
  });

  it('creates Slack and webhook channels, never showing their secrets again', async () => {
    const version = (await tenantObjectState(env, org.tenantId)).alertConfigVersion;
    const slack = await org.admin.post('/api/v1/channels', slackChannel);
    expect(slack.status).toBe(201);
    const slackBody = ChannelCreated.parse(await slack.json());
    expect(slackBody.secret).toBeUndefined();
    expect(slackBody.channel.config).toEqual({ type: 'slack', webhookUrlHint: 'https://hooks.slack.com/…WXYZ' });
    expect(JSON.stringify(slackBody)).not.toContain('abcdefghij');

    const hook = await org.owner.post('/api/v1/channels', webhookChannel);
    expect(hook.status).toBe(201);
    const { channel, secret } = ChannelCreated.parse(await hook.json());
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(channel).toMatchObject({
      name: 'Pager',
      minLevel: 'critical',
      enabled: true,
      builtIn: false,
      quietHours: null,
      hourlyBudget: 30,
      disabledReason: null,
      config: { type: 'webhook', url: 'https://hooks.example.com/pw', secretHint: `whsec_…${secret?.slice(-4)}` },
    });
    expect((await storedChannel(env, channel.id)).secret).toBe(secret);

    // Reads by any member or a read key show hints only.
    for (const res of [
      await org.viewer.get('/api/v1/channels'),
      await org.owner.request('GET', '/api/v1/channels', undefined, org.readKey),
      await org.viewer.get(`/api/v1/channels/${channel.id}`),
    ]) {
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain(secret?.slice(6, 30));
      expect(text).not.toContain('abcdefghij');
    }
    expect((await tenantObjectState(env, org.tenantId)).alertConfigVersion).toBe(version + 2);
  });

  it('lets only admins and owners change channels', async () => {
    const [target] = await channels(org.owner);
    if (!target) throw new Error('no channel');
    await expectError(await org.viewer.post('/api/v1/channels', slackChannel), 403, 'insufficient_role');
    await expectError(await org.viewer.patch(`/api/v1/channels/${target.id}`, { name: 'x' }), 403, 'insufficient_role');
    await expectError(await org.viewer.delete(`/api/v1/channels/${target.id}`), 403, 'insufficient_role');
    await expectError(await org.viewer.post(`/api/v1/channels/${target.id}/rotate-secret`), 403, 'insufficient_role');
    await expectError(
      await org.owner.request('POST', '/api/v1/channels', slackChannel, org.readKey),
      403,
      'read_only_key',
    );
    expect(await channels(org.owner)).toContainEqual(target);
  });

  it('refuses forbidden targets, hostile text and bad quiet hours with 422 and the field', async () => {
    const before = (await channels(org.owner)).length;
    const production = { ...env, PULSEWIRE_MODE: 'production' };
    const prodOwner = Object.assign(new TestClient(production), { cookies: org.owner.cookies });
    const cases: [TestClient, unknown, string, string][] = [
      [
        prodOwner,
        { name: 'x', config: { type: 'webhook', url: 'http://hooks.example.com/' } },
        'forbidden_target',
        'json.config.url',
      ],
      [
        prodOwner,
        { name: 'x', config: { type: 'webhook', url: 'https://169.254.169.254/' } },
        'forbidden_target',
        'json.config.url',
      ],
      [
        prodOwner,
        { name: 'x', config: { type: 'webhook', url: 'https://127.0.0.1:8787/' } },
        'forbidden_target',
        'json.config.url',
      ],
      [
        prodOwner,
        { name: 'x', config: { type: 'slack', webhookUrl: 'https://evil.example/services/x' } },
        'forbidden_target',
        'json.config.webhookUrl',
      ],
      // Local mode takes loopback (for the fakes) but not private networks.
      [
        org.owner,
        { name: 'x', config: { type: 'webhook', url: 'http://10.0.0.7/' } },
        'forbidden_target',
        'json.config.url',
      ],
      [
        org.owner,
        { name: 'a\u0000', config: { type: 'email', to: { kind: 'roles', roles: ['owner'] } } },
        'validation_failed',
        'json.name',
      ],
      [
        org.owner,
        { name: 'a', config: { type: 'webhook', url: 'https://example.com/\uD800' } },
        'validation_failed',
        'json.config.url',
      ],
      [
        org.owner,
        { name: 'a', config: { type: 'email', to: { kind: 'addresses', addresses: ['not-mail'] } } },
        'validation_failed',
        'json.config.to.addresses.0',
      ],
      [
        org.owner,
        { ...slackChannel, quietHours: { timeZone: 'Mars/Olympus_Mons', start: '22:00', end: '07:00' } },
        'invalid_time_zone',
        'json.quietHours.timeZone',
      ],
      [
        org.owner,
        { ...slackChannel, quietHours: { timeZone: 'UTC', start: '25:00', end: '07:00' } },
        'validation_failed',
        'json.quietHours.start',
      ],
    ];
    for (const [client, body, code, path] of cases) {
      await expectError(await client.request('POST', '/api/v1/channels', body), 422, code, path).catch((e: Error) => {
        throw new Error(`${JSON.stringify(body)}: ${e.message}`);
      });
    }
    const local = await org.owner.post('/api/v1/channels', {
      name: 'Local fake',
      config: { type: 'webhook', url: 'http://127.0.0.1:9/hook' },
    });
    expect(local.status).toBe(201);
    expect((await channels(org.owner)).length).toBe(before + 1);
  });

  it('PATCH changes the fields given, keeps the type, checks the target, and clears a disabled reason', async () => {
    const { channel } = ChannelCreated.parse(
      await (await org.owner.post('/api/v1/channels', { ...slackChannel, name: 'To edit' })).json(),
    );
    await withDb(env, (db) =>
      db
        .update(notificationChannels)
        .set({ enabled: false, disabledReason: 'Slack said channel_not_found' })
        .where(eq(notificationChannels.id, channel.id)),
    );
    await expectError(
      await org.owner.patch(`/api/v1/channels/${channel.id}`, {
        config: { type: 'webhook', url: 'https://a.example/' },
      }),
      422,
      'validation_failed',
      'json.config.type',
    );
    await expectError(
      await org.owner.patch(`/api/v1/channels/${channel.id}`, {
        config: { type: 'slack', webhookUrl: 'https://evil.example/x' },
      }),
      422,
      'forbidden_target',
      'json.config.webhookUrl',
    );
    const res = await org.admin.patch(`/api/v1/channels/${channel.id}`, {
      enabled: true,
      quietHours: { timeZone: 'Europe/Paris', start: '22:00', end: '07:00' },
      hourlyBudget: 5,
    });
    expect(res.status).toBe(200);
    expect(Channel.parse(await res.json())).toMatchObject({
      name: 'To edit',
      enabled: true,
      disabledReason: null,
      hourlyBudget: 5,
      quietHours: {
        timeZone: 'Europe/Paris',
        start: '22:00',
        end: '07:00',
        days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
      },
      config: { type: 'slack', webhookUrlHint: 'https://hooks.slack.com/…WXYZ' },
    });
  });

  it('rotates a webhook secret, keeping the previous one for a day', async () => {
    const created = ChannelCreated.parse(await (await org.owner.post('/api/v1/channels', webhookChannel)).json());
    const res = await org.admin.post(`/api/v1/channels/${created.channel.id}/rotate-secret`);
    expect(res.status).toBe(200);
    const rotated = ChannelCreated.parse(await res.json());
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    expect(rotated.channel.config).toMatchObject({ secretHint: `whsec_…${rotated.secret?.slice(-4)}` });
    const row = await storedChannel(env, created.channel.id);
    expect(row.secret).toBe(rotated.secret);
    expect(row.previousSecret).toBe(created.secret);
    const expires = row.previousSecretExpiresAt?.getTime() ?? 0;
    expect(expires - Date.now()).toBeGreaterThan(23 * 3600_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(24 * 3600_000);

    const [email] = (await channels(org.owner)).filter((c) => c.config.type === 'email');
    await expectError(await org.owner.post(`/api/v1/channels/${email?.id}/rotate-secret`), 422, 'validation_failed');
  });

  it('shows a channel’s delivery log, newest first, to members and read keys', async () => {
    const { channel } = ChannelCreated.parse(await (await org.owner.post('/api/v1/channels', webhookChannel)).json());
    const alertId = crypto.randomUUID();
    await withDb(env, (db) =>
      db.insert(notificationDeliveries).values([
        {
          tenantId: org.tenantId,
          channelId: channel.id,
          kind: 'firing',
          status: 'retrying',
          attempts: 2,
          lastStatus: 503,
          lastError: 'HTTP 503',
          latencyMs: 120,
          alertIds: [alertId],
          messageId: 'msg_1',
          createdAt: new Date(Date.now() - 60_000),
        },
        {
          tenantId: org.tenantId,
          channelId: channel.id,
          kind: 'resolved',
          status: 'sent',
          attempts: 1,
          lastStatus: 200,
        },
      ]),
    );
    const res = await org.owner.request('GET', `/api/v1/channels/${channel.id}/deliveries`, undefined, org.readKey);
    expect(res.status).toBe(200);
    const { deliveries } = DeliveryList.parse(await res.json());
    expect(deliveries.map((d) => d.kind)).toEqual(['resolved', 'firing']);
    expect(deliveries[1]).toMatchObject({
      status: 'retrying',
      attempts: 2,
      lastStatus: 503,
      lastError: 'HTTP 503',
      latencyMs: 120,
      alertId,
      alertIds: [alertId],
    });
    const one = DeliveryList.parse(
      await (await org.viewer.get(`/api/v1/channels/${channel.id}/deliveries?limit=1`)).json(),
    );
    expect(one.deliveries.map((d) => d.kind)).toEqual(['resolved']);
    await expectError(
      await org.viewer.get(`/api/v1/channels/${channel.id}/deliveries?limit=0`),
      422,
      'validation_failed',
      'query.limit',
    );
    await expectError(await other.get(`/api/v1/channels/${channel.id}/deliveries`), 404, 'not_found');
  });

  it('deleting a channel removes it from the rules that named it', async () => {
    const { channel } = ChannelCreated.parse(await (await org.owner.post('/api/v1/channels', slackChannel)).json());
    const [keep] = await channels(org.owner);
    const rule = Rule.parse(
      await (
        await org.owner.post('/api/v1/rules', {
          name: 'Routed',
          condition: { kind: 'no_data' },
          notify: { channelIds: [channel.id, keep?.id] },
        })
      ).json(),
    );
    await expectError(await other.delete(`/api/v1/channels/${channel.id}`), 404, 'not_found');
    expect((await org.owner.delete(`/api/v1/channels/${channel.id}`)).status).toBe(200);
    await expectError(await org.owner.get(`/api/v1/channels/${channel.id}`), 404, 'not_found');
    const after = Rule.parse(await (await org.owner.get(`/api/v1/rules/${rule.id}`)).json());
    expect(after.notify.channelIds).toEqual([keep?.id]);
  });

  it('keeps an organisation to 50 channels (409 too_many_channels)', async () => {
    const env2 = await isolatedEnv();
    const { client: owner } = await signedUpClient(env2, 'many-channels');
    const tenantId = ((await (await owner.get('/api/v1/me')).json()) as { organization: { id: string } }).organization
      .id;
    const existing = (await channels(owner)).length;
    await withDb(env2, (db) =>
      db.insert(notificationChannels).values(
        Array.from({ length: 50 - existing }, (_, i) => ({
          tenantId,
          type: 'email' as const,
          name: `filler ${i}`,
          config: { type: 'email' as const, to: { kind: 'roles' as const, roles: ['owner' as const] } },
        })),
      ),
    );
    await expectError(await owner.post('/api/v1/channels', slackChannel), 409, 'too_many_channels');
    expect((await channels(owner)).length).toBe(50);
  });
});
