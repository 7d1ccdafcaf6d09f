import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import {
  AlertList,
  ChannelCreated,
  DeliveryList,
  Rule,
  type RuleInput,
  RulePreview,
  WebhookPayload,
} from '@pulsewire/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { ownerWithIngestKey, sample, TestAgent } from '../../../test/agent.ts';
import type { TestClient } from '../../../test/client.ts';
import { baseEnv, isolatedEnv, objectUsesDatabase } from '../../../test/support.ts';
import type { Env } from '../../env.ts';

/**
 * Alerting end to end inside workerd: a real agent batch through the real ingest route, the tenant
 * object's engine and alarm, the notifier's outbox, and a webhook receiver that verifies every
 * signature with the `standardwebhooks` library and dedupes by `webhook-id`.
 */

interface Received {
  attempts: { webhookId: string | null; verified: boolean; status: number }[];
  deliveries: { webhookId: string; payload: unknown }[];
}

async function received(path: string): Promise<Received> {
  const res = await fetch(`${baseEnv.FAKE_WEBHOOK_URL}/_received?path=${encodeURIComponent(path)}`);
  return (await res.json()) as Received;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last saw ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function webhookChannel(owner: TestClient, path: string, responses: unknown[] = []) {
  const res = await owner.post('/api/v1/channels', {
    name: `hook ${path}`,
    config: { type: 'webhook', url: `${baseEnv.FAKE_WEBHOOK_URL}${path}` },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const created = ChannelCreated.parse(await res.json());
  await fetch(`${baseEnv.FAKE_WEBHOOK_URL}/_endpoints`, {
    method: 'POST',
    body: JSON.stringify({ path, secret: created.secret, responses }),
  });
  return created.channel;
}

async function cpuRule(owner: TestClient, channelId: string, extra: Partial<RuleInput> = {}) {
  const rule: RuleInput = {
    name: `CPU over 80 ${crypto.randomUUID().slice(0, 4)}`,
    condition: {
      kind: 'threshold',
      metric: { path: 'cpu.total' },
      comparison: 'gt',
      warning: { threshold: 60, recovery: 50 },
      critical: { threshold: 80, recovery: 70 },
    },
    notify: { channelIds: [channelId], groupWaitSeconds: 0 },
    ...extra,
  };
  const res = await owner.post('/api/v1/rules', rule);
  expect(res.status, await res.clone().text()).toBe(201);
  return Rule.parse(await res.json());
}

const payloads = (r: Received) => r.deliveries.map((d) => WebhookPayload.parse(d.payload));

describe('alerting through ingest, the tenant object and a signed webhook', () => {
  let env: Env;
  let owner: TestClient;
  let agent: TestAgent;

  beforeAll(async () => {
    env = { ...(await isolatedEnv()), NOTIFY_RETRY_SCALE: '0.001', NOTIFY_TIMEOUT_MS: '2000' } as Env;
    const setup = await ownerWithIngestKey(env, 'alerting');
    owner = setup.owner;
    agent = await TestAgent.enroll(env, setup.ingestKey, crypto.randomUUID(), 'web-1');
    await objectUsesDatabase(env, agent.tenantId);
  });

  it('sends exactly one firing message for a crossing batch, then one resolution with duration and peak', async () => {
    const path = `/hooks/${crypto.randomUUID()}`;
    const channel = await webhookChannel(owner, path);
    const rule = await cpuRule(owner, channel.id);

    // Below, then over the critical line twice in a row: one alert, one message.
    expect((await agent.push(agent.batch([sample(Date.now() - 2000, 20)]))).status).toBe(200);
    expect((await agent.push(agent.batch([sample(Date.now() - 1000, 95)]))).status).toBe(200);
    expect((await agent.push(agent.batch([sample(Date.now(), 97)]))).status).toBe(200);

    const firing = await until('the firing webhook', async () => {
      const r = await received(path);
      return r.deliveries.length > 0 ? r : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 500)); // nothing more should come
    const after = await received(path);
    expect(after.deliveries).toHaveLength(1);
    expect(after.attempts.every((a) => a.verified)).toBe(true);
    const [fired] = payloads(firing);
    expect(fired).toMatchObject({
      type: 'alert.firing',
      data: { version: '1', kind: 'firing', organizationId: agent.tenantId },
    });
    expect(fired?.data.alerts).toHaveLength(1);
    expect(fired?.data.alerts[0]).toMatchObject({
      ruleId: rule.id,
      hostId: agent.hostId,
      hostName: 'web-1',
      level: 'critical',
      state: 'firing',
      threshold: 80,
    });

    // The alert is recorded and listed as active.
    const active = await until('the active alert', async () => {
      const list = AlertList.parse(await (await owner.get(`/api/v1/alerts?ruleId=${rule.id}`)).json());
      return list.alerts.length > 0 ? list.alerts : undefined;
    });
    // The row is written on transitions: its peak is the one known when the alert fired.
    expect(active[0]).toMatchObject({ state: 'firing', level: 'critical', hostId: agent.hostId, peak: 95 });

    // Back under the recovery line: the resolution goes out at once, with its duration and peak.
    expect((await agent.push(agent.batch([sample(Date.now(), 30)]))).status).toBe(200);
    const resolved = await until('the resolution webhook', async () => {
      const r = await received(path);
      return r.deliveries.length > 1 ? r : undefined;
    });
    const second = payloads(resolved)[1];
    expect(second).toMatchObject({ type: 'alert.resolved', data: { kind: 'resolved' } });
    expect(second?.data.alerts[0]).toMatchObject({
      state: 'resolved',
      peak: 97,
      dedupKey: fired?.data.alerts[0]?.dedupKey,
    });
    expect(second?.data.alerts[0]?.durationSeconds).toBeGreaterThanOrEqual(0);

    const history = AlertList.parse(await (await owner.get(`/api/v1/alerts?view=history&ruleId=${rule.id}`)).json());
    expect(history.alerts).toHaveLength(1);
    expect(history.alerts[0]).toMatchObject({ state: 'resolved', peak: 97 });

    const log = DeliveryList.parse(await (await owner.get(`/api/v1/channels/${channel.id}/deliveries`)).json());
    expect(log.deliveries.map((d) => [d.kind, d.status, d.attempts])).toEqual([
      ['resolved', 'sent', 1],
      ['firing', 'sent', 1],
    ]);
  });

  it('delivers once, under one webhook-id, to a target that fails twice first', async () => {
    const path = `/hooks/${crypto.randomUUID()}`;
    const channel = await webhookChannel(owner, path, [{ status: 500 }, { status: 503 }]);
    await cpuRule(owner, channel.id);
    await agent.push(agent.batch([sample(Date.now(), 99)]));

    const r = await until('the delivery after two failures', async () => {
      const got = await received(path);
      return got.deliveries.length > 0 ? got : undefined;
    });
    expect(r.attempts.map((a) => a.status)).toEqual([500, 503, 204]);
    expect(new Set(r.attempts.map((a) => a.webhookId)).size).toBe(1);
    expect(r.deliveries).toHaveLength(1);
    const log = await until('the log line', async () => {
      const list = DeliveryList.parse(await (await owner.get(`/api/v1/channels/${channel.id}/deliveries`)).json());
      return list.deliveries[0]?.status === 'sent' ? list.deliveries : undefined;
    });
    expect(log[0]).toMatchObject({ kind: 'firing', status: 'sent', attempts: 3, lastStatus: 204 });
    await agent.push(agent.batch([sample(Date.now(), 10)]));
  });

  it('still delivers exactly once when the object is evicted between attempts', async () => {
    const path = `/hooks/${crypto.randomUUID()}`;
    // The first attempt is slow and fails: the object is evicted while the message waits in its outbox.
    const channel = await webhookChannel(owner, path, [{ status: 503, delayMs: 300 }]);
    await cpuRule(owner, channel.id);
    await agent.push(agent.batch([sample(Date.now(), 99)]));
    await until('the first attempt', async () => ((await received(path)).attempts.length > 0 ? true : undefined));
    const stub = env.TENANT.get(env.TENANT.idFromName(agent.tenantId));
    await evictDurableObject(stub);
    await objectUsesDatabase(env, agent.tenantId); // the new instance gets the file's database again

    await until('a delivery after eviction', async () => {
      const got = await received(path);
      return got.deliveries.length > 0 ? got : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const final = await received(path);
    expect(final.deliveries).toHaveLength(1);
    expect(final.attempts.map((a) => a.status)).toEqual([503, 204]);
    expect(new Set(final.attempts.map((a) => a.webhookId)).size).toBe(1);
    await agent.push(agent.batch([sample(Date.now(), 10)]));
  });

  it('escalates warning to critical with one notice, and mutes a silenced alert while still recording it', async () => {
    const path = `/hooks/${crypto.randomUUID()}`;
    const channel = await webhookChannel(owner, path);
    const rule = await cpuRule(owner, channel.id);
    await agent.push(agent.batch([sample(Date.now(), 65)])); // warning
    await until('the warning', async () => ((await received(path)).deliveries.length === 1 ? true : undefined));
    await agent.push(agent.batch([sample(Date.now(), 90)])); // critical
    const both = await until('the escalation', async () => {
      const r = await received(path);
      return r.deliveries.length === 2 ? r : undefined;
    });
    expect(payloads(both).map((p) => [p.type, p.data.alerts[0]?.level])).toEqual([
      ['alert.firing', 'warning'],
      ['alert.escalated', 'critical'],
    ]);
    await agent.push(agent.batch([sample(Date.now(), 10)]));
    await until('the resolution', async () => ((await received(path)).deliveries.length === 3 ? true : undefined));

    // A silence on this rule: the next alert is recorded (and shown silenced) but nobody is told.
    const silence = await owner.post('/api/v1/silences', {
      matchers: [{ name: 'rule', op: '=', value: rule.id }],
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      comment: 'load test',
    });
    expect(silence.status, await silence.clone().text()).toBe(201);
    await agent.push(agent.batch([sample(Date.now(), 99)]));
    const muted = await until('the silenced alert', async () => {
      const list = AlertList.parse(await (await owner.get(`/api/v1/alerts?ruleId=${rule.id}`)).json());
      return list.alerts.find((a) => a.state === 'firing');
    });
    expect(muted).toMatchObject({ silenced: true, level: 'critical' });
    const log = await until('the suppressed log line', async () => {
      const list = DeliveryList.parse(await (await owner.get(`/api/v1/channels/${channel.id}/deliveries`)).json());
      return list.deliveries.find((d) => d.status === 'suppressed');
    });
    expect(log.lastError).toMatch(/silence/i);
    expect((await received(path)).deliveries).toHaveLength(3);
    await agent.push(agent.batch([sample(Date.now(), 10)]));
  });

  it('mutes alerts inside a recurring maintenance window, and records them as silenced', async () => {
    const path = `/hooks/${crypto.randomUUID()}`;
    const channel = await webhookChannel(owner, path);
    const rule = await cpuRule(owner, channel.id);
    // Open now: every day, from the start of this UTC hour, for two hours.
    const start = `${String(new Date().getUTCHours()).padStart(2, '0')}:00`;
    const window = await owner.post('/api/v1/maintenance-windows', {
      name: 'patching',
      timeZone: 'UTC',
      days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
      start,
      durationMinutes: 120,
      matchers: [{ name: 'rule', op: '=', value: rule.id }],
    });
    expect(window.status, await window.clone().text()).toBe(201);
    await agent.push(agent.batch([sample(Date.now(), 99)]));
    const log = await until('the suppressed log line', async () => {
      const list = DeliveryList.parse(await (await owner.get(`/api/v1/channels/${channel.id}/deliveries`)).json());
      return list.deliveries.find((d) => d.status === 'suppressed');
    });
    expect(log.lastError).toMatch(/maintenance/i);
    const muted = await until('the recorded alert', async () => {
      const list = AlertList.parse(await (await owner.get(`/api/v1/alerts?ruleId=${rule.id}`)).json());
      return list.alerts[0];
    });
    expect(muted).toMatchObject({ state: 'firing', silenced: true });
    expect((await received(path)).deliveries).toHaveLength(0);
    await agent.push(agent.batch([sample(Date.now(), 10)]));
  });

  it('holds warnings in quiet hours (logged as held) while a critical alert still goes out', async () => {
    const path = `/hooks/${crypto.randomUUID()}`;
    const channel = await webhookChannel(owner, path);
    // Quiet all day, every day, in a zone with DST: only critical passes.
    const quiet = await owner.patch(`/api/v1/channels/${channel.id}`, {
      quietHours: { timeZone: 'Europe/Paris', start: '00:00', end: '00:00' },
    });
    expect(quiet.status, await quiet.clone().text()).toBe(200);
    await cpuRule(owner, channel.id, {
      condition: {
        kind: 'threshold',
        metric: { path: 'cpu.total' },
        comparison: 'gt',
        warning: { threshold: 60, recovery: 50 },
      },
    });
    await agent.push(agent.batch([sample(Date.now(), 70)]));
    const held = await until('the held warning', async () => {
      const list = DeliveryList.parse(await (await owner.get(`/api/v1/channels/${channel.id}/deliveries`)).json());
      return list.deliveries.find((d) => d.status === 'suppressed');
    });
    expect(held.lastError).toMatch(/quiet/i);
    expect((await received(path)).deliveries).toHaveLength(0);

    await cpuRule(owner, channel.id); // warning 60 and critical 80
    await agent.push(agent.batch([sample(Date.now(), 95)]));
    const critical = await until('the critical alert', async () => {
      const r = await received(path);
      return r.deliveries.length > 0 ? r : undefined;
    });
    expect(payloads(critical).map((p) => p.data.alerts[0]?.level)).toEqual(['critical']);
    await agent.push(agent.batch([sample(Date.now(), 10)]));
  });

  it('previews a rule on the hosts it covers: the series drawn and whether it would fire now', async () => {
    // Later than anything earlier tests pushed for this host, so these are its latest values.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const now = Date.now();
    await agent.push(agent.batch([900, 500, 100].map((ago, i) => sample(now - ago, 85 + i))));
    const rule = (critical: number) => ({
      rule: {
        name: 'preview',
        condition: { kind: 'threshold', metric: { path: 'cpu.total' }, critical: { threshold: critical } },
      },
      hours: 1,
    });
    const hot = await owner.post('/api/v1/rules/preview', rule(80));
    expect(hot.status, await hot.clone().text()).toBe(200);
    const { hosts } = RulePreview.parse(await hot.json());
    expect(hosts.map((h) => h.hostId)).toEqual([agent.hostId]);
    expect(hosts[0]?.series[0]).toMatchObject({ key: 'cpu.total', wouldFire: 'critical', value: 87 });
    // Drawn from the history tiers in buckets (an hour in 300: 15 s each): the last one holds these samples.
    expect(hosts[0]?.series[0]?.points.at(-1)?.[0]).toBeGreaterThan(now - 30_000);
    const calm = RulePreview.parse(await (await owner.post('/api/v1/rules/preview', rule(99))).json());
    expect(calm.hosts[0]?.series[0]).toMatchObject({ wouldFire: null, value: 87 });
    await agent.push(agent.batch([sample(Date.now(), 10)]));
  });

  it('ends the open alerts of a host that is revoked, with one resolution', async () => {
    const ingest = await owner.post('/api/v1/keys', { name: 'second', scope: 'ingest' });
    const { secret } = (await ingest.json()) as { secret: string };
    const doomed = await TestAgent.enroll(env, secret, crypto.randomUUID(), 'doomed');
    const path = `/hooks/${crypto.randomUUID()}`;
    const channel = await webhookChannel(owner, path);
    const rule = await cpuRule(owner, channel.id, { scope: { type: 'hosts', hostIds: [doomed.hostId] } });
    await doomed.push(doomed.batch([sample(Date.now(), 99)]));
    await until('the firing webhook', async () => ((await received(path)).deliveries.length === 1 ? true : undefined));

    expect((await owner.post(`/api/v1/hosts/${doomed.hostId}/revoke`)).status).toBe(200);
    const r = await until('the resolution', async () => {
      const got = await received(path);
      return got.deliveries.length === 2 ? got : undefined;
    });
    expect(payloads(r)[1]).toMatchObject({ type: 'alert.resolved', data: { alerts: [{ hostId: doomed.hostId }] } });
    // Recorded right after it is notified.
    await until('the alert to leave the active list', async () => {
      const active = AlertList.parse(await (await owner.get(`/api/v1/alerts?ruleId=${rule.id}`)).json());
      return active.alerts.length === 0 ? true : undefined;
    });
  });

  it('notifies at once a transition that arrives while the alarm is still sending', async () => {
    // The receiver takes its time over the firing message; the batch back under the line arrives
    // meanwhile. The alarm's closing schedule must keep the wake-up that batch asked for, or the
    // resolution waits for some later alarm (here: the host-down deadline, 90 s on).
    const ingest = await owner.post('/api/v1/keys', { name: 'busy', scope: 'ingest' });
    const { secret } = (await ingest.json()) as { secret: string };
    const busy = await TestAgent.enroll(env, secret, crypto.randomUUID(), 'busy');
    const path = `/hooks/${crypto.randomUUID()}`;
    const channel = await webhookChannel(owner, path, [{ status: 204, delayMs: 1500 }]);
    const rule = await cpuRule(owner, channel.id, { scope: { type: 'hosts', hostIds: [busy.hostId] } });
    expect((await busy.push(busy.batch([sample(Date.now(), 99)]))).status).toBe(200);
    await until('the firing attempt under way', async () =>
      (await received(path)).attempts.length > 0 ? true : undefined,
    );
    expect((await busy.push(busy.batch([sample(Date.now(), 10)]))).status).toBe(200);

    const resolved = await until('the resolution webhook', async () => {
      const r = await received(path);
      return payloads(r).find((p) => p.type === 'alert.resolved');
    });
    expect(resolved.data.alerts[0]).toMatchObject({ ruleId: rule.id, state: 'resolved', peak: 99 });
    // The slow answer was the firing message (scripted answers are not recorded as deliveries).
    const r = await received(path);
    expect(r.attempts.map((a) => a.status)).toEqual([204, 204]);
    expect(new Set(r.attempts.map((a) => a.webhookId)).size).toBe(2);
  });

  it('reminds while an alert keeps firing, through an eviction, and stops once a member acknowledges it', async () => {
    const ingest = await owner.post('/api/v1/keys', { name: 'reminded', scope: 'ingest' });
    const { secret } = (await ingest.json()) as { secret: string };
    const host = await TestAgent.enroll(env, secret, crypto.randomUUID(), 'reminded');
    const path = `/hooks/${crypto.randomUUID()}`;
    const channel = await webhookChannel(owner, path);
    const rule = await cpuRule(owner, channel.id, {
      scope: { type: 'hosts', hostIds: [host.hostId] },
      notify: { channelIds: [channel.id], groupWaitSeconds: 0, renotifyMinutes: 1, notifyResolved: true },
    });
    expect((await host.push(host.batch([sample(Date.now(), 99)]))).status).toBe(200);
    await until('the firing webhook', async () => ((await received(path)).deliveries.length > 0 ? true : undefined));
    const [alert] = await until('the recorded alert', async () => {
      const list = AlertList.parse(await (await owner.get(`/api/v1/alerts?ruleId=${rule.id}`)).json());
      return list.alerts.length > 0 ? list.alerts : undefined;
    });

    // A minute is a long wait in a test: the object's own record of the reminder is moved to the past,
    // and the object evicted so that it reads its storage again, as it would after a redeploy.
    const stub = env.TENANT.get(env.TENANT.idFromName(host.tenantId));
    const reminderDue = async () => {
      const record = await runInDurableObject(stub, async (_instance, state) => {
        const key = `notify:alert:${alert?.id}`;
        const stored = await state.storage.get<{ nextAt: number | null; acknowledged: boolean }>(key);
        if (stored) await state.storage.put(key, { ...stored, nextAt: Date.now() - 1 });
        return stored;
      });
      await evictDurableObject(stub);
      await objectUsesDatabase(env, host.tenantId);
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      return record;
    };

    const first = await reminderDue();
    // The planner had scheduled the reminder renotifyMinutes after the firing notice.
    expect(first?.nextAt).toBeGreaterThan(Date.now());
    const reminded = await until('the reminder', async () => {
      const r = await received(path);
      return r.deliveries.length > 1 ? payloads(r) : undefined;
    });
    expect(reminded.map((p) => p.data.kind)).toEqual(['firing', 'renotify']);
    expect(reminded[1]?.data.alerts[0]).toMatchObject({ id: alert?.id, state: 'firing', level: 'critical' });

    const ack = await owner.post(`/api/v1/alerts/${alert?.id}/ack`);
    expect(ack.status, await ack.clone().text()).toBe(200);
    const second = await reminderDue();
    expect(second).toMatchObject({ acknowledged: true });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(payloads(await received(path)).map((p) => p.data.kind)).toEqual(['firing', 'renotify']);

    // Acknowledged is not forgotten: the resolution still goes out.
    expect((await host.push(host.batch([sample(Date.now(), 10)]))).status).toBe(200);
    const resolved = await until('the resolution', async () => {
      const kinds = payloads(await received(path)).map((p) => p.data.kind);
      return kinds.length > 2 ? kinds : undefined;
    });
    expect(resolved).toEqual(['firing', 'renotify', 'resolved']);
  });

  it('"Send test" goes through the outbox and reports what the target answered', async () => {
    const path = `/hooks/${crypto.randomUUID()}`;
    const channel = await webhookChannel(owner, path);
    const res = await owner.post(`/api/v1/channels/${channel.id}/test`);
    expect(res.status, await res.clone().text()).toBe(200);
    const { delivery } = (await res.json()) as { delivery: { status: string; kind: string; attempts: number } };
    expect(delivery).toMatchObject({ status: 'sent', kind: 'test', attempts: 1 });
    const r = await received(path);
    expect(payloads(r).map((p) => p.type)).toEqual(['alert.test']);

    const broken = await webhookChannel(owner, `/hooks/${crypto.randomUUID()}`, [{ status: 500 }]);
    const failed = await owner.post(`/api/v1/channels/${broken.id}/test`);
    expect(failed.status).toBe(200);
    expect(((await failed.json()) as { delivery: { status: string } }).delivery.status).toBe('retrying');
  });
});
