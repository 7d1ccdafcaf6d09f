import { Alert, AlertList, RuleList } from '@pulsewire/protocol';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { sample, TestAgent } from '../../test/agent.ts';
import { expectError, insertAlert, type Org, orgWithMembers, tenantObjectState } from '../../test/alerting.ts';
import { signedUpClient, type TestClient } from '../../test/client.ts';
import { isolatedEnv } from '../../test/support.ts';
import type { Env } from '../env.ts';

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000);

async function list(client: TestClient, query = '') {
  const res = await client.get(`/api/v1/alerts${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return AlertList.parse(await res.json());
}

describe('alerts', () => {
  let env: Env;
  let org: Org;
  let other: TestClient;
  let hostId: string;
  let ruleId: string;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    env = await isolatedEnv();
    org = await orgWithMembers(env, 'alerts');
    ({ client: other } = await signedUpClient(env, 'alerts-other'));
    const key = (await (await org.owner.post('/api/v1/keys', { name: 'agents', scope: 'ingest' })).json()) as {
      secret: string;
    };
    const agent = await TestAgent.enroll(env, key.secret, crypto.randomUUID(), 'db-1');
    await agent.push(agent.batch([sample(Date.now())]));
    hostId = agent.hostId;
    const { rules } = RuleList.parse(await (await org.owner.get('/api/v1/rules')).json());
    ruleId = rules.find((r) => r.name === 'Disk almost full')?.id ?? '';
    const base = { tenantId: org.tenantId, ruleId, ruleName: 'Disk almost full' };
    ids.disk = await insertAlert(env, {
      ...base,
      hostId,
      seriesKey: 'disk.used_pct{mount="/"}',
      labels: { mount: '/' },
      level: 'critical',
      state: 'firing',
      value: 96.5,
      peak: 97.1,
      threshold: 95,
      message: 'Disk / at 96.5 %',
      startedAt: minutesAgo(10),
      firedAt: minutesAgo(9),
    });
    ids.pending = await insertAlert(env, { ...base, level: 'warning', state: 'pending', startedAt: minutesAgo(5) });
    ids.stale = await insertAlert(env, { ...base, hostId, state: 'stale', startedAt: minutesAgo(1) });
    ids.resolved = await insertAlert(env, {
      ...base,
      hostId,
      state: 'resolved',
      startedAt: minutesAgo(120),
      resolvedAt: minutesAgo(100),
    });
  });

  it('lists active alerts newest first with host names, to members and read keys', async () => {
    const { alerts, nextCursor } = await list(org.viewer);
    expect(alerts.map((a) => a.id)).toEqual([ids.stale, ids.pending, ids.disk]);
    expect(nextCursor).toBeNull();
    expect(alerts[2]).toEqual({
      id: ids.disk,
      ruleId,
      ruleName: 'Disk almost full',
      hostId,
      hostName: 'db-1',
      series: 'disk.used_pct{mount="/"}',
      labels: { mount: '/' },
      level: 'critical',
      state: 'firing',
      value: 96.5,
      peak: 97.1,
      threshold: 95,
      message: 'Disk / at 96.5 %',
      startedAt: expect.any(String),
      firedAt: expect.any(String),
      resolvedAt: null,
      acknowledgedAt: null,
      acknowledgedBy: null,
      silenced: false,
    });
    const byKey = await org.owner.request('GET', '/api/v1/alerts', undefined, org.readKey);
    expect(AlertList.parse(await byKey.json()).alerts).toHaveLength(3);
    const one = await org.owner.request('GET', `/api/v1/alerts/${ids.disk}`, undefined, org.readKey);
    expect(Alert.parse(await one.json())).toEqual(alerts[2]);
  });

  it('filters by view, level, host, rule and start time', async () => {
    expect((await list(org.owner, '?view=history')).alerts.map((a) => a.id)).toEqual([ids.resolved]);
    expect((await list(org.owner, '?level=critical')).alerts.map((a) => a.id)).toEqual([ids.disk]);
    expect((await list(org.owner, `?hostId=${hostId}`)).alerts.map((a) => a.id)).toEqual([ids.stale, ids.disk]);
    expect((await list(org.owner, `?ruleId=${crypto.randomUUID()}`)).alerts).toEqual([]);
    const from = minutesAgo(7).toISOString();
    const to = minutesAgo(2).toISOString();
    expect((await list(org.owner, `?from=${from}&to=${to}`)).alerts.map((a) => a.id)).toEqual([ids.pending]);
  });

  it('pages with a cursor without gaps or repeats, ties and microseconds included', async () => {
    const env2 = await isolatedEnv();
    const { client: owner } = await signedUpClient(env2, 'pages');
    const tenantId = ((await (await owner.get('/api/v1/me')).json()) as { organization: { id: string } }).organization
      .id;
    const rule = crypto.randomUUID();
    const created: string[] = [];
    // Same instant for several rows (ordered by id among themselves), and sub-millisecond times that a
    // JavaScript Date cannot represent.
    const tie = new Date('2026-03-01T12:00:00.000Z');
    for (let i = 0; i < 5; i++) created.push(await insertAlert(env2, { tenantId, ruleId: rule, startedAt: tie }));
    for (let i = 0; i < 5; i++) {
      created.push(
        await insertAlert(env2, {
          tenantId,
          ruleId: rule,
          startedAt: sql`'2026-03-01T12:00:00.000Z'::timestamptz + ${(i + 1) * 7} * interval '1 microsecond'`,
        }),
      );
    }
    const all = (await list(owner, '?limit=500')).alerts.map((a) => a.id);
    expect(new Set(all)).toEqual(new Set(created));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { alerts: { id: string }[]; nextCursor: string | null } = await list(
        owner,
        `?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.alerts.length).toBeLessThanOrEqual(3);
      seen.push(...page.alerts.map((a) => a.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
  });

  it('answers bad queries with 422 naming the parameter', async () => {
    await expectError(await org.owner.get('/api/v1/alerts?limit=0'), 422, 'validation_failed', 'query.limit');
    await expectError(await org.owner.get('/api/v1/alerts?view=everything'), 422, 'validation_failed', 'query.view');
    await expectError(await org.owner.get('/api/v1/alerts?level=fatal'), 422, 'validation_failed', 'query.level');
    await expectError(await org.owner.get('/api/v1/alerts?hostId=nope'), 422, 'validation_failed', 'query.hostId');
    await expectError(await org.owner.get('/api/v1/alerts?from=yesterday'), 422, 'validation_failed', 'query.from');
    for (const cursor of ['garbage', btoa('1.not-a-uuid'), btoa('\u0000'), '%F0%9F']) {
      await expectError(
        await org.owner.get(`/api/v1/alerts?cursor=${cursor}`),
        422,
        'validation_failed',
        'query.cursor',
      );
    }
  });

  it("hides another organisation's alerts", async () => {
    expect((await list(other)).alerts).toEqual([]);
    expect((await list(other, '?view=history')).alerts).toEqual([]);
    await expectError(await other.get(`/api/v1/alerts/${ids.disk}`), 404, 'not_found');
    await expectError(await other.post(`/api/v1/alerts/${ids.disk}/ack`), 404, 'not_found');
    await expectError(await org.owner.get(`/api/v1/alerts/${crypto.randomUUID()}`), 404, 'not_found');
  });

  it('any member acknowledges an open alert, once; read keys cannot; resolved alerts cannot be', async () => {
    await expectError(
      await org.owner.request('POST', `/api/v1/alerts/${ids.disk}/ack`, {}, org.readKey),
      403,
      'read_only_key',
    );
    const res = await org.viewer.post(`/api/v1/alerts/${ids.disk}/ack`);
    expect(res.status).toBe(200);
    const acked = Alert.parse(await res.json());
    expect(acked.acknowledgedAt).not.toBeNull();
    expect(acked.acknowledgedBy).toMatch(/@example\.com$/);
    expect((await tenantObjectState(env, org.tenantId)).acknowledged).toContain(ids.disk);

    const again = Alert.parse(await (await org.admin.post(`/api/v1/alerts/${ids.disk}/ack`)).json());
    expect(again.acknowledgedAt).toBe(acked.acknowledgedAt);
    expect(again.acknowledgedBy).toBe(acked.acknowledgedBy);

    await expectError(await org.owner.post(`/api/v1/alerts/${ids.resolved}/ack`), 409, 'alert_resolved');
    const resolved = Alert.parse(await (await org.owner.get(`/api/v1/alerts/${ids.resolved}`)).json());
    expect(resolved.acknowledgedAt).toBeNull();
  });
});
