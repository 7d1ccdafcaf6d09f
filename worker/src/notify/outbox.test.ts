import { describe, expect, it } from 'vitest';
import { baseEnv } from '../../test/support.ts';
import { parseConfig } from '../env.ts';
import { generateWebhookSecret } from './channels/webhook.ts';
import { alertNotification, notifiedAlert, testNotification } from './messages.ts';
import { type DrainContext, Outbox, RETRY_SCHEDULE_MS } from './outbox.ts';
import { createSender } from './sender.ts';
import { memoryStorage } from './storage.ts';
import { channel, context, firing, ORG, rule } from './test-fixtures.ts';
import type { DeliveryRecord, NotifyChannel, NotifyStorage, Sender } from './types.ts';

/**
 * The outbox against the real channel modules and the fakes, over HTTP. Time is virtual (each drain
 * is given its `now`) but starts at the wall clock, because receivers check webhook-timestamp
 * against theirs (±5 min): the shortened retry schedule keeps a whole run within that.
 */

// Durable Object storage is what the object passes; it must fit the interface as is.
const _fits: (s: DurableObjectStorage) => NotifyStorage = (s) => s;

const RETRY_SCALE = 0.0001; // 24 h → 8.6 s
const unique = () => crypto.randomUUID().slice(0, 8);
const OWNER_EMAIL = '00000000-0000-4000-8000-00000000e001';

const mailConfig = parseConfig({
  ...baseEnv,
  PULSEWIRE_MODE: 'production',
  RESEND_API_KEY: 're_test_outbox',
  RESEND_BASE_URL: baseEnv.FAKE_RESEND_URL,
});
const sender: Sender = createSender({
  mode: 'local',
  mail: { config: mailConfig, database: null },
  recipients: async () => ['owner-outbox@example.com'],
});

async function webhookChannel(responses: unknown[] = [], sticky = false): Promise<NotifyChannel & { path: string }> {
  const path = `/hooks/${unique()}`;
  const secret = generateWebhookSecret();
  const res = await fetch(`${baseEnv.FAKE_WEBHOOK_URL}/_endpoints`, {
    method: 'POST',
    body: JSON.stringify({ path, secret, responses, sticky }),
  });
  expect(res.status).toBe(204);
  const id = crypto.randomUUID();
  return {
    ...channel(id, { config: { type: 'webhook', url: `${baseEnv.FAKE_WEBHOOK_URL}${path}` }, secrets: [secret] }),
    path,
  };
}

const ownerChannel = channel(OWNER_EMAIL, {
  name: 'Owners and admins',
  config: { type: 'email', to: { kind: 'roles', roles: ['owner', 'admin'] } },
});

async function received(path: string) {
  const res = await fetch(`${baseEnv.FAKE_WEBHOOK_URL}/_received?path=${encodeURIComponent(path)}`);
  return (await res.json()) as {
    attempts: { webhookId: string; status: number }[];
    deliveries: { webhookId: string }[];
  };
}

function alertMessage(channelId: string, now: number) {
  const ctx = context(now);
  return alertNotification(ctx, channelId, 'firing', rule(), [notifiedAlert(firing(now), rule(), ctx)]);
}

const drainContext = (now: number, channels: NotifyChannel[]): DrainContext => ({
  now,
  channels,
  organizationId: ORG,
  origin: 'https://app.pulsewire.test',
});

/** Drains at each due time until the outbox is empty (or `max` drains), collecting the records. */
async function drainAll(outbox: Outbox, start: number, channels: NotifyChannel[], max = 30) {
  const records: DeliveryRecord[] = [];
  const disabled: string[] = [];
  let now = start;
  for (let i = 0; i < max; i++) {
    const result = await outbox.drain(drainContext(now, channels));
    records.push(...result.records);
    disabled.push(...result.disable.map((d) => d.reason));
    if (result.nextDueAt === null) break;
    now = Math.max(now, result.nextDueAt);
  }
  return { records, disabled, now };
}

describe('outbox', () => {
  it('delivers once, with one webhook-id, to a target that fails twice and then succeeds', async () => {
    const target = await webhookChannel([{ status: 500 }, { status: 503 }]);
    const outbox = new Outbox(memoryStorage(), { send: sender, retryScale: RETRY_SCALE });
    const start = Date.now();
    const message = alertMessage(target.id, start);
    expect((await outbox.enqueue(message, start)).status).toBe('queued');
    const { records } = await drainAll(outbox, start, [target]);
    expect(records.map((r) => [r.status, r.attempts, r.lastStatus])).toEqual([
      ['retrying', 1, 500],
      ['retrying', 2, 503],
      ['sent', 3, 204],
    ]);
    expect(records[2]?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(records[0]?.alertIds).toEqual(message.alerts.map((a) => a.id));
    const { attempts, deliveries } = await received(target.path);
    expect(new Set(attempts.map((a) => a.webhookId))).toEqual(new Set([message.id]));
    expect(attempts).toHaveLength(3);
    expect(deliveries).toHaveLength(1);
    expect(await outbox.nextDueAt()).toBeNull();
  });

  it('waits the Standard Webhooks schedule, scaled, between attempts', async () => {
    const target = await webhookChannel([{ status: 500 }, { status: 500 }]);
    const outbox = new Outbox(memoryStorage(), { send: sender, retryScale: RETRY_SCALE, random: () => 0.5 });
    const start = Date.now();
    await outbox.enqueue(alertMessage(target.id, start), start);
    await outbox.drain(drainContext(start, [target]));
    const second = start + Math.round((RETRY_SCHEDULE_MS[1] ?? 0) * RETRY_SCALE);
    expect(await outbox.nextDueAt()).toBe(second);
    expect(await outbox.due(second - 1)).toEqual([]);
    await outbox.drain(drainContext(second, [target]));
    expect(await outbox.nextDueAt()).toBe(second + Math.round((RETRY_SCHEDULE_MS[2] ?? 0) * RETRY_SCALE));
  });

  it('honours Retry-After over a shorter backoff', async () => {
    const target = await webhookChannel([{ status: 429, retryAfterSeconds: 120 }]);
    const outbox = new Outbox(memoryStorage(), { send: sender, retryScale: RETRY_SCALE });
    const start = Date.now();
    await outbox.enqueue(alertMessage(target.id, start), start);
    const first = await outbox.drain(drainContext(start, [target]));
    expect(first.records.map((r) => [r.status, r.lastStatus])).toEqual([['retrying', 429]]);
    expect(first.nextDueAt).toBe(start + 120_000);
    expect((await outbox.drain(drainContext(start + 119_999, [target]))).records).toEqual([]);
    const second = await outbox.drain(drainContext(start + 120_000, [target]));
    expect(second.records.map((r) => r.status)).toEqual(['sent']);
  });

  it('gives up after the last retry and tells the owners once per channel, until it works again', async () => {
    const target = await webhookChannel([{ status: 500 }], true);
    const storage = memoryStorage();
    const outbox = new Outbox(storage, { send: sender, retryScale: RETRY_SCALE });
    const start = Date.now();
    await outbox.enqueue(alertMessage(target.id, start), start);
    await outbox.enqueue(alertMessage(target.id, start), start);
    const { records, now } = await drainAll(outbox, start, [target, ownerChannel], 60);
    const mine = records.filter((r) => r.channelId === target.id);
    expect(mine.filter((r) => r.status === 'retrying')).toHaveLength(2 * (RETRY_SCHEDULE_MS.length - 1));
    expect(mine.filter((r) => r.status === 'failed').map((r) => r.attempts)).toEqual([10, 10]);
    expect(mine.at(-1)?.lastError).toBe('HTTP 500');
    const notices = records.filter((r) => r.channelId === OWNER_EMAIL);
    expect(notices.map((r) => [r.kind, r.status])).toEqual([
      ['delivery_failed', 'queued'],
      ['delivery_failed', 'sent'],
    ]);
    expect(now - start).toBeLessThan(5 * 60_000); // within the receivers' timestamp tolerance

    const res = await fetch(`${baseEnv.FAKE_RESEND_URL}/_received`);
    const { emails } = (await res.json()) as { emails: { body: { subject: string; to: string[] } }[] };
    const told = emails.filter((e) => e.body.subject.includes(`"${target.name}"`));
    expect(told.map((e) => e.body.subject)).toEqual([
      `[DELIVERY FAILED] Notification channel "${target.name}" is failing; a notification was given up after every retry (10 attempts, last: HTTP 500)`,
    ]);

    // A success clears the mark: the next failure is news again.
    const healthy = {
      ...target,
      config: { type: 'webhook' as const, url: `${baseEnv.FAKE_WEBHOOK_URL}${(await webhookChannel()).path}` },
    };
    const okEndpoint = healthy.config.url.slice(baseEnv.FAKE_WEBHOOK_URL.length);
    await fetch(`${baseEnv.FAKE_WEBHOOK_URL}/_endpoints`, {
      method: 'POST',
      body: JSON.stringify({ path: okEndpoint, secret: target.secrets[0] }),
    });
    await outbox.enqueue(alertMessage(target.id, now), now);
    expect((await outbox.drain(drainContext(now, [healthy, ownerChannel]))).records.map((r) => r.status)).toEqual([
      'sent',
    ]);
    expect(await storage.get(`outbox:failing:${target.id}`)).toBeUndefined();
  });

  it('disables a Slack channel on channel_not_found, tells the owners, and drops what was queued for it', async () => {
    const path = `/services/T9/B9/${unique()}`;
    await fetch(`${baseEnv.FAKE_SLACK_URL}/_script`, {
      method: 'POST',
      body: JSON.stringify({ path, responses: [{ status: 404, body: 'channel_not_found' }], sticky: true }),
    });
    const slack = channel(crypto.randomUUID(), {
      name: 'ops',
      config: { type: 'slack', webhookUrl: `${baseEnv.FAKE_SLACK_URL}${path}` },
    });
    const outbox = new Outbox(memoryStorage(), { send: sender, retryScale: RETRY_SCALE });
    const start = Date.now();
    await outbox.enqueue(alertMessage(slack.id, start), start);
    await outbox.enqueue(alertMessage(slack.id, start), start);
    const first = await outbox.drain(drainContext(start, [slack, ownerChannel]));
    expect(first.disable).toEqual([{ channelId: slack.id, reason: 'Slack answered channel_not_found' }]);
    expect(first.records.map((r) => [r.channelId, r.kind, r.status])).toEqual([
      [slack.id, 'firing', 'failed'],
      [OWNER_EMAIL, 'delivery_failed', 'queued'],
    ]);
    // The object disabled the channel; the next drain drops its other message and sends the notice.
    const second = await outbox.drain(drainContext(start, [{ ...slack, enabled: false }, ownerChannel]));
    expect(second.records.map((r) => [r.channelId, r.status, r.lastError])).toEqual(
      expect.arrayContaining([
        [slack.id, 'failed', 'the channel is disabled'],
        [OWNER_EMAIL, 'sent', null],
      ]),
    );
    const slackRequests = (await (await fetch(`${baseEnv.FAKE_SLACK_URL}/_received?path=${path}`)).json()) as {
      requests: number;
    };
    expect(slackRequests.requests).toBe(1);
  });

  it('reports a failure nobody could be told about', async () => {
    const target = await webhookChannel([{ status: 410 }]);
    const outbox = new Outbox(memoryStorage(), { send: sender, retryScale: RETRY_SCALE });
    const start = Date.now();
    await outbox.enqueue(alertMessage(target.id, start), start);
    const result = await outbox.drain(drainContext(start, [target]));
    expect(result.unreported.map((f) => [f.channel.id, f.disabled])).toEqual([[target.id, true]]);
  });

  it('after an eviction in the middle of a send, the revived object re-sends the same id once, and no more', async () => {
    const target = await webhookChannel();
    const storage = memoryStorage();
    // The first instance dies right after the receiver accepted: none of its later writes happen.
    let dead = false;
    const dying: NotifyStorage = {
      get: (key) => (dead ? Promise.reject(new Error('evicted')) : storage.get(key)),
      put: (key, value) => (dead ? Promise.reject(new Error('evicted')) : storage.put(key, value)),
      delete: (key) => (dead ? Promise.reject(new Error('evicted')) : storage.delete(key)),
      list: (options) => (dead ? Promise.reject(new Error('evicted')) : storage.list(options)),
    };
    const killAfterSend: Sender = async (...args) => {
      const result = await sender(...args);
      dead = true;
      return result;
    };
    const first = new Outbox(dying, { send: killAfterSend, retryScale: RETRY_SCALE, timeoutMs: 10_000 });
    const start = Date.now();
    const message = alertMessage(target.id, start);
    await first.enqueue(message, start);
    await expect(first.drain(drainContext(start, [target]))).rejects.toThrow('evicted');

    const revived = new Outbox(storage, { send: sender, retryScale: RETRY_SCALE, timeoutMs: 10_000 });
    // The lease keeps it from being re-sent while the first attempt might still be in flight…
    expect(await revived.due(start + 1000)).toEqual([]);
    const leaseEnd = (await revived.nextDueAt()) as number;
    expect(leaseEnd).toBeGreaterThanOrEqual(start + 10_000);
    // …and afterwards it goes again, with the same webhook-id, which the receiver dedupes.
    const again = await revived.drain(drainContext(leaseEnd, [target]));
    expect(again.records.map((r) => [r.status, r.attempts])).toEqual([['sent', 2]]);
    expect(again.nextDueAt).toBeNull();
    expect((await revived.drain(drainContext(leaseEnd + 3_600_000, [target]))).records).toEqual([]);
    const { attempts, deliveries } = await received(target.path);
    expect(attempts.map((a) => a.webhookId)).toEqual([message.id, message.id]);
    expect(deliveries).toHaveLength(1);
  });

  it('never sends a second copy when two drains overlap', async () => {
    const target = await webhookChannel([{ status: 204, delayMs: 300 }]);
    const outbox = new Outbox(memoryStorage(), { send: sender, retryScale: RETRY_SCALE });
    const start = Date.now();
    await outbox.enqueue(alertMessage(target.id, start), start);
    const [a, b] = await Promise.all([
      outbox.drain(drainContext(start, [target])),
      outbox.drain(drainContext(start, [target])),
    ]);
    expect([...a.records, ...b.records].map((r) => r.status)).toEqual(['sent']);
    expect((await received(target.path)).attempts).toHaveLength(1);
  });

  it('sends a channel test through the same path', async () => {
    const target = await webhookChannel();
    const outbox = new Outbox(memoryStorage(), { send: sender });
    const start = Date.now();
    await outbox.enqueue(
      testNotification({ organizationId: ORG, origin: 'https://app.pulsewire.test', now: start }, target),
      start,
    );
    const result = await outbox.drain(drainContext(start, [target]));
    expect(result.records.map((r) => [r.kind, r.status])).toEqual([['test', 'sent']]);
  });
});
