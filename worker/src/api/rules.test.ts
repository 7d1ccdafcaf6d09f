import { AlertList, ChannelList, MetricCatalog, Rule, RuleList, type Sample } from '@pulsewire/protocol';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { ownerWithIngestKey, sample, TestAgent } from '../../test/agent.ts';
import { expectError, insertAlert, type Org, orgWithMembers, tenantObjectState, withDb } from '../../test/alerting.ts';
import { signedUpClient, type TestClient } from '../../test/client.ts';
import { isolatedEnv } from '../../test/support.ts';
import { DEFAULT_CHANNEL, DEFAULT_RULES } from '../alerts/defaults.ts';
import { alertRules, hosts } from '../db/schema.ts';
import type { Env } from '../env.ts';

const cpuRule = {
  name: 'CPU over 80',
  condition: {
    kind: 'threshold',
    metric: { path: 'cpu.total' },
    aggregation: 'avg',
    windowSeconds: 60,
    comparison: 'gt',
    warning: { threshold: 80, recovery: 70 },
    critical: { threshold: 95 },
  },
};

async function rules(client: TestClient) {
  const res = await client.get('/api/v1/rules');
  expect(res.status).toBe(200);
  return RuleList.parse(await res.json()).rules;
}

describe('alert rules', () => {
  let env: Env;
  let org: Org;
  let other: TestClient;
  beforeAll(async () => {
    env = await isolatedEnv();
    org = await orgWithMembers(env, 'rules');
    ({ client: other } = await signedUpClient(env, 'rules-other'));
  });

  it('a new organisation starts with exactly the default rules and e-mail channel', async () => {
    const list = await rules(org.owner);
    const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : 1);
    expect(list.map(({ id: _id, createdAt: _c, updatedAt: _u, builtIn, ...spec }) => ({ ...spec, builtIn }))).toEqual(
      [...DEFAULT_RULES].sort(byName).map((spec) => ({ ...spec, builtIn: true })),
    );
    const { channels } = ChannelList.parse(await (await org.owner.get('/api/v1/channels')).json());
    expect(channels).toHaveLength(1);
    expect(channels[0]).toMatchObject({
      name: DEFAULT_CHANNEL.name,
      config: DEFAULT_CHANNEL.config,
      minLevel: 'warning',
      enabled: true,
      builtIn: true,
      quietHours: null,
      hourlyBudget: DEFAULT_CHANNEL.hourlyBudget,
    });
  });

  it('admins create, change and delete rules; viewers and read keys only read', async () => {
    const before = (await tenantObjectState(env, org.tenantId)).alertConfigVersion;
    await expectError(await org.viewer.post('/api/v1/rules', cpuRule), 403, 'insufficient_role');
    await expectError(await org.owner.request('POST', '/api/v1/rules', cpuRule, org.readKey), 403, 'read_only_key');

    const created = await org.admin.post('/api/v1/rules', cpuRule);
    expect(created.status).toBe(201);
    const rule = Rule.parse(await created.json());
    expect(rule).toMatchObject({
      name: 'CPU over 80',
      enabled: true,
      builtIn: false,
      scope: { type: 'all' },
      notify: { channelIds: null, renotifyMinutes: 240, groupWaitSeconds: 30, notifyResolved: true },
      condition: { metric: { path: 'cpu.total', match: [] }, warning: { threshold: 80, recovery: 70 } },
    });
    expect((await tenantObjectState(env, org.tenantId)).alertConfigVersion).toBe(before + 1);

    // Viewers and read keys read it.
    expect((await rules(org.viewer)).map((r) => r.id)).toContain(rule.id);
    const byKey = await org.owner.request('GET', `/api/v1/rules/${rule.id}`, undefined, org.readKey);
    expect(Rule.parse(await byKey.json())).toEqual(rule);
    await expectError(await org.viewer.patch(`/api/v1/rules/${rule.id}`, { name: 'x' }), 403, 'insufficient_role');
    await expectError(await org.viewer.delete(`/api/v1/rules/${rule.id}`), 403, 'insufficient_role');

    // PATCH: the fields given; notify merged, condition kept.
    const patched = await org.owner.patch(`/api/v1/rules/${rule.id}`, {
      name: 'CPU hot',
      enabled: false,
      notify: { renotifyMinutes: 0 },
    });
    expect(patched.status).toBe(200);
    const changed = Rule.parse(await patched.json());
    expect(changed).toMatchObject({
      name: 'CPU hot',
      enabled: false,
      notify: { renotifyMinutes: 0, groupWaitSeconds: 30 },
      condition: rule.condition,
    });
    expect(Date.parse(changed.updatedAt)).toBeGreaterThanOrEqual(Date.parse(rule.updatedAt));

    const deleted = await org.admin.delete(`/api/v1/rules/${rule.id}`);
    expect(deleted.status).toBe(200);
    await expectError(await org.owner.get(`/api/v1/rules/${rule.id}`), 404, 'not_found');
    expect((await tenantObjectState(env, org.tenantId)).alertConfigVersion).toBe(before + 3);
  });

  it("refuses another organisation's rules and channels", async () => {
    const [mine] = await rules(org.owner);
    if (!mine) throw new Error('no rule');
    await expectError(await other.get(`/api/v1/rules/${mine.id}`), 404, 'not_found');
    await expectError(await other.patch(`/api/v1/rules/${mine.id}`, { name: 'mine now' }), 404, 'not_found');
    await expectError(await other.delete(`/api/v1/rules/${mine.id}`), 404, 'not_found');
    expect((await rules(org.owner)).find((r) => r.id === mine.id)).toEqual(mine);

    const { channels } = ChannelList.parse(await (await other.get('/api/v1/channels')).json());
    const theirs = channels[0]?.id;
    const res = await org.owner.post('/api/v1/rules', { ...cpuRule, notify: { channelIds: [theirs] } });
    await expectError(res, 422, 'channel_not_found', 'json.notify.channelIds.0');
  });

  it('answers bad rules with 422, the refinement’s code and the field, and stores nothing', async () => {
    const count = async () => (await rules(org.owner)).length;
    const before = await count();
    const threshold = (extra: Record<string, unknown>) => ({
      ...cpuRule,
      condition: { ...cpuRule.condition, ...extra },
    });
    const cases: [string, unknown, string, string][] = [
      [
        'critical below warning',
        threshold({ warning: { threshold: 90 }, critical: { threshold: 80 } }),
        'threshold_order',
        'json.condition.critical.threshold',
      ],
      [
        'recovery on the firing side',
        threshold({ warning: { threshold: 90, recovery: 95 }, critical: undefined }),
        'recovery_side',
        'json.condition.warning.recovery',
      ],
      ['unknown metric', threshold({ metric: { path: 'cpu.nope' } }), 'unknown_metric', 'json.condition.metric.path'],
      [
        'bad regex in a metric matcher',
        threshold({ metric: { path: 'disk.used_pct', match: [{ name: 'mount', op: '=~', value: '(' }] } }),
        'invalid_selector',
        'json.condition.metric.match.0.value',
      ],
      [
        'bad label selector',
        { ...cpuRule, scope: { type: 'labels', selector: 'env=prod, =oops' } },
        'invalid_selector',
        'json.scope.selector',
      ],
      [
        'unknown channel',
        { ...cpuRule, notify: { channelIds: [crypto.randomUUID()] } },
        'channel_not_found',
        'json.notify.channelIds.0',
      ],
      ['NUL in the name', { ...cpuRule, name: 'cpu\u0000' }, 'validation_failed', 'json.name'],
      [
        'lone surrogate in the description',
        { ...cpuRule, description: 'a\uD800b' },
        'validation_failed',
        'json.description',
      ],
      ['lone low surrogate in the runbook', { ...cpuRule, runbook: '\uDC00' }, 'validation_failed', 'json.runbook'],
      ['NUL in a label value', { ...cpuRule, labels: { team: 'ops\u0000' } }, 'validation_failed', 'json.labels.team'],
      [
        'NUL in a matcher value',
        threshold({ metric: { path: 'disk.used_pct', match: [{ name: 'mount', op: '=', value: '/\u0000' }] } }),
        'validation_failed',
        'json.condition.metric.match.0.value',
      ],
      ['unknown kind', threshold({ kind: 'psychic' }), 'validation_failed', 'json.condition'],
    ];
    for (const [what, body, code, path] of cases) {
      const res = await org.owner.request('POST', '/api/v1/rules', body);
      await expectError(res, 422, code, path).catch((error: Error) => {
        throw new Error(`${what}: ${error.message}`);
      });
    }
    expect(await count()).toBe(before);

    // PATCH is validated the same way, on the merged rule.
    const [target] = await rules(org.owner);
    if (!target) throw new Error('no rule');
    await expectError(
      await org.owner.patch(`/api/v1/rules/${target.id}`, {
        condition: threshold({ warning: { threshold: 90 }, critical: { threshold: 80 } }).condition,
      }),
      422,
      'threshold_order',
      'json.condition.critical.threshold',
    );
    await expectError(
      await org.owner.patch(`/api/v1/rules/${target.id}`, { notify: { channelIds: [crypto.randomUUID()] } }),
      422,
      'channel_not_found',
      'json.notify.channelIds.0',
    );
    expect((await rules(org.owner)).find((r) => r.id === target.id)).toEqual(target);
  });

  it('keeps an organisation to 500 rules (409 too_many_rules)', async () => {
    const env2 = await isolatedEnv();
    const { client: owner } = await signedUpClient(env2, 'many-rules');
    const tenantId = (await tenantObjectOf(owner)).tenantId;
    const existing = (await rules(owner)).length;
    const [template] = await withDb(env2, (db) =>
      db.select().from(alertRules).where(eq(alertRules.tenantId, tenantId)),
    );
    if (!template) throw new Error('no default rule');
    await withDb(env2, (db) =>
      db.insert(alertRules).values(
        Array.from({ length: 500 - existing - 1 }, (_, i) => ({
          tenantId,
          name: `filler ${i}`,
          kind: template.kind,
          spec: template.spec,
        })),
      ),
    );
    expect((await owner.post('/api/v1/rules', cpuRule)).status).toBe(201);
    await expectError(await owner.post('/api/v1/rules', cpuRule), 409, 'too_many_rules');
    const last = (await rules(owner)).at(-1);
    expect((await owner.delete(`/api/v1/rules/${last?.id}`)).status).toBe(200);
    expect((await owner.post('/api/v1/rules', cpuRule)).status).toBe(201);
  });

  it('refuses a rule whose windows would not fit alert evaluation’s memory (409 too_many_series), writing nothing', async () => {
    // 128 KiB for 20 hosts: the default rules and a 1-minute average fit; a 15-minute p95 does not.
    const small = { ...(await isolatedEnv()), ALERT_MEMORY_BUDGET_BYTES: String(128 * 1024) };
    const { client: owner } = await signedUpClient(small, 'small-budget');
    const tenantId = (await tenantObjectOf(owner)).tenantId;
    await withDb(small, (db) =>
      db.insert(hosts).values(
        Array.from({ length: 20 }, (_, i) => ({
          tenantId,
          name: `web-${i}`,
          machineId: `machine-${i}`,
          publicKey: `key-${i}`,
          labels: { env: 'staging' },
        })),
      ),
    );
    expect((await owner.post('/api/v1/rules', cpuRule)).status).toBe(201);
    const before = (await rules(owner)).length;

    const p95 = {
      ...cpuRule,
      name: 'CPU p95 over 15 min',
      condition: { ...cpuRule.condition, aggregation: 'p95', windowSeconds: 900 },
    };
    await expectError(await owner.post('/api/v1/rules', p95), 409, 'too_many_series', 'json.condition');
    expect((await rules(owner)).length).toBe(before);

    // The same rule on the hosts it should watch (none labelled prod yet), or disabled, fits.
    const scoped = await owner.post('/api/v1/rules', { ...p95, scope: { type: 'labels', selector: 'env=prod' } });
    expect(scoped.status).toBe(201);
    const disabled = Rule.parse(await (await owner.post('/api/v1/rules', { ...p95, enabled: false })).json());
    await expectError(
      await owner.patch(`/api/v1/rules/${disabled.id}`, { enabled: true }),
      409,
      'too_many_series',
      'json.condition',
    );
    expect((await rules(owner)).find((r) => r.id === disabled.id)?.enabled).toBe(false);

    // More hosts came: the rules already there no longer fit. An edit that needs no more goes through.
    await withDb(small, (db) =>
      db.insert(hosts).values(
        Array.from({ length: 20 }, (_, i) => ({
          tenantId,
          name: `db-${i}`,
          machineId: `db-${i}`,
          publicKey: `db-${i}`,
        })),
      ),
    );
    const cpu = (await rules(owner)).find((r) => r.name === cpuRule.name);
    const lower = { condition: { ...cpuRule.condition, warning: { threshold: 75, recovery: 70 } } };
    expect((await owner.patch(`/api/v1/rules/${cpu?.id}`, lower)).status).toBe(200);
  });

  it('deleting a rule resolves its open alerts and keeps its history', async () => {
    const rule = Rule.parse(await (await org.owner.post('/api/v1/rules', cpuRule)).json());
    const alertId = await insertAlert(env, { tenantId: org.tenantId, ruleId: rule.id, ruleName: rule.name });
    expect((await org.owner.delete(`/api/v1/rules/${rule.id}`)).status).toBe(200);
    const { alerts } = AlertList.parse(
      await (await org.owner.get(`/api/v1/alerts?view=history&ruleId=${rule.id}`)).json(),
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ id: alertId, state: 'resolved', ruleName: 'CPU over 80' });
    expect(alerts[0]?.resolvedAt).not.toBeNull();
  });

  it('GET /rules/metrics lists every metric, with the mounts and interfaces seen on the hosts', async () => {
    const { owner, ingestKey } = await ownerWithIngestKey(env, 'metrics');
    const agent = await TestAgent.enroll(env, ingestKey);
    const withDisks: Sample = {
      ...sample(Date.now()),
      disks: [
        { mount: '/data', fs: '/dev/sdb1', type: 'ext4', size: 100, used: 50, usedPct: 50 },
        { mount: '/', fs: '/dev/sda1', type: 'ext4', size: 100, used: 10, usedPct: 10 },
      ],
    };
    const metricsSent = [
      { name: 'queue_depth', kind: 'gauge' as const, ts: Date.now(), value: 3, labels: { queue: 'mail' } },
      {
        name: 'job_ms',
        kind: 'histogram' as const,
        ts: Date.now(),
        hist: { count: 2, sum: 10, min: 4, max: 6, p50: 5, p90: 6, p99: 6 },
      },
    ];
    expect((await agent.push(agent.batch([withDisks], { metrics: metricsSent }))).status).toBe(200);

    const res = await owner.get('/api/v1/rules/metrics');
    expect(res.status).toBe(200);
    const { metrics } = MetricCatalog.parse(await res.json());
    const disk = metrics.find((m) => m.path === 'disk.used_pct');
    expect(disk).toMatchObject({ unit: 'pct', dimension: 'mount', series: [{ mount: '/' }, { mount: '/data' }] });
    expect(metrics.find((m) => m.path === 'cpu.total')).toEqual({ path: 'cpu.total', title: 'CPU busy', unit: 'pct' });
    expect(metrics.find((m) => m.path === 'net.rx')?.series).toEqual([]);
    // Custom metrics sent lately, with their label sets; a histogram as one series per statistic.
    expect(metrics.find((m) => m.path === 'custom.queue_depth')).toMatchObject({ series: [{ queue: 'mail' }] });
    expect(metrics.filter((m) => m.path.startsWith('custom.job_ms.')).map((m) => m.path)).toContain(
      'custom.job_ms.p99',
    );

    // Another organisation sees the catalogue, not these mounts.
    const theirs = MetricCatalog.parse(await (await org.viewer.get('/api/v1/rules/metrics')).json());
    expect(theirs.metrics.find((m) => m.path === 'disk.used_pct')?.series).toEqual([]);
    expect(theirs.metrics.find((m) => m.path === 'custom.queue_depth')).toBeUndefined();
  });
});

async function tenantObjectOf(client: TestClient): Promise<{ tenantId: string }> {
  const me = (await (await client.get('/api/v1/me')).json()) as { organization: { id: string } };
  return { tenantId: me.organization.id };
}
