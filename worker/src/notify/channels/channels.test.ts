import { WebhookPayload } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { baseEnv, isolatedEnv } from '../../../test/support.ts';
import { openDatabase } from '../../db/client.ts';
import { parseConfig } from '../../env.ts';
import { alertNotification, notifiedAlert } from '../messages.ts';
import { createSender } from '../sender.ts';
import { channel, context, firing, HOSTS, rule } from '../test-fixtures.ts';
import type { Notification, NotifyChannel } from '../types.ts';
import { sendEmail } from './email.ts';
import { slackMessage } from './slack.ts';
import { generateWebhookSecret, sendWebhook } from './webhook.ts';

/** The channel modules against the fakes (stack/src/fakes), over real HTTP from inside workerd. */

const now = () => Date.now();
const options = () => ({ signal: AbortSignal.timeout(10_000), now: now() });
const unique = () => crypto.randomUUID().slice(0, 8);

function message(over: { kind?: Notification['kind']; level?: 'warning' | 'critical'; hosts?: number } = {}) {
  const ctx = context(now());
  const hostIds = [HOSTS.web1, HOSTS.web2, HOSTS.db1];
  const alerts = Array.from({ length: over.hosts ?? 1 }, (_, i) =>
    notifiedAlert(
      firing(now(), {
        hostId: hostIds[i % 3] ?? null,
        series: `disk.used_pct{mount="/data${i}"}`,
        level: over.level ?? 'critical',
        ...(over.kind === 'resolved' ? { to: 'ok' as const, peak: 99.1 } : {}),
      }),
      rule(),
      ctx,
    ),
  );
  return alertNotification(ctx, 'c1', over.kind ?? 'firing', rule(), alerts);
}

async function receivedWebhooks(path: string) {
  const res = await fetch(`${baseEnv.FAKE_WEBHOOK_URL}/_received?path=${encodeURIComponent(path)}`);
  return (await res.json()) as {
    attempts: { webhookId: string; verified: boolean; signatures: string[]; status: number }[];
    deliveries: { webhookId: string; payload: unknown }[];
  };
}

async function registerEndpoint(path: string, secret: string, responses: unknown[] = [], sticky = false) {
  const res = await fetch(`${baseEnv.FAKE_WEBHOOK_URL}/_endpoints`, {
    method: 'POST',
    body: JSON.stringify({ path, secret, responses, sticky }),
  });
  expect(res.status).toBe(204);
}

async function scriptSlack(path: string, responses: unknown[], sticky = false) {
  const res = await fetch(`${baseEnv.FAKE_SLACK_URL}/_script`, {
    method: 'POST',
    body: JSON.stringify({ path, responses, sticky }),
  });
  expect(res.status).toBe(204);
}

async function receivedSlack(path: string) {
  const res = await fetch(`${baseEnv.FAKE_SLACK_URL}/_received?path=${encodeURIComponent(path)}`);
  return (await res.json()) as {
    messages: { body: { text: string; blocks: unknown[]; attachments: { color: string; blocks: unknown[] }[] } }[];
  };
}

describe('webhook channel (Standard Webhooks)', () => {
  it('makes whsec_ secrets of 32 random bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(secret.slice(6))).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });

  it('delivers a versioned payload the receiver verifies, signed with both secrets during a rotation', async () => {
    const path = `/hooks/${unique()}`;
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    await registerEndpoint(path, oldSecret); // the receiver has not switched yet
    const msg = message({ hosts: 2 });
    const result = await sendWebhook(`${baseEnv.FAKE_WEBHOOK_URL}${path}`, [newSecret, oldSecret], msg, options());
    expect(result).toEqual({ outcome: 'delivered', status: 204 });
    const { attempts, deliveries } = await receivedWebhooks(path);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]?.signatures).toHaveLength(2);
    expect(attempts[0]?.webhookId).toBe(msg.id);
    const payload = WebhookPayload.parse(deliveries[0]?.payload);
    expect(payload.type).toBe('alert.firing');
    expect(payload.data.alerts.map((a) => a.dedupKey)).toEqual(msg.alerts.map((a) => a.dedupKey));
    expect(payload.data.alerts[0]?.url).toBe(`https://app.pulsewire.test/alerts/${msg.alerts[0]?.id}`);
  });

  it('is refused by a receiver holding another secret', async () => {
    const path = `/hooks/${unique()}`;
    await registerEndpoint(path, generateWebhookSecret());
    const result = await sendWebhook(
      `${baseEnv.FAKE_WEBHOOK_URL}${path}`,
      [generateWebhookSecret()],
      message(),
      options(),
    );
    expect(result).toMatchObject({ outcome: 'retry', status: 401 });
  });

  it('retries 5xx and 3xx, honours Retry-After on 429, and treats 410 as permanent', async () => {
    const path = `/hooks/${unique()}`;
    const secret = generateWebhookSecret();
    await registerEndpoint(path, secret, [
      { status: 502 },
      { status: 301 },
      { status: 429, retryAfterSeconds: 30 },
      { status: 410 },
    ]);
    const url = `${baseEnv.FAKE_WEBHOOK_URL}${path}`;
    const send = () => sendWebhook(url, [secret], message(), options());
    expect(await send()).toMatchObject({ outcome: 'retry', status: 502 });
    expect(await send()).toMatchObject({
      outcome: 'retry',
      status: 301,
      error: 'HTTP 301: redirects are not followed',
    });
    expect(await send()).toMatchObject({ outcome: 'retry', status: 429, retryAfterMs: 30_000 });
    expect(await send()).toMatchObject({ outcome: 'permanent', status: 410 });
  });

  it('answers a network failure as a retry', async () => {
    const result = await sendWebhook('http://127.0.0.1:1/hook', [generateWebhookSecret()], message(), options());
    expect(result).toMatchObject({ outcome: 'retry', status: null });
  });
});

describe('Slack channel', () => {
  it('sends Block Kit the fake accepts, with the colour of the level', async () => {
    const path = `/services/T1/B1/${unique()}`;
    const url = `${baseEnv.FAKE_SLACK_URL}${path}`;
    const sender = createSender({
      mode: 'local',
      mail: { config: parseConfig(baseEnv), database: null },
      recipients: async () => [],
    });
    const slack = channel('c1', { config: { type: 'slack', webhookUrl: url } });
    for (const m of [message({ level: 'critical' }), message({ level: 'warning' }), message({ kind: 'resolved' })]) {
      expect(await sender(slack, m, options())).toEqual({ outcome: 'delivered', status: 200 });
    }
    const { messages } = await receivedSlack(path);
    expect(messages.map((m) => m.body.attachments[0]?.color)).toEqual(['#d92d20', '#f79009', '#12b76a']);
    expect(messages[0]?.body.text).toBe('High CPU critical on web-1 disk.used_pct{mount="/data0"}');
  });

  it('stays within Slack limits for a storm of alerts and a long rule name', async () => {
    const big = message({ hosts: 120 });
    big.ruleName = 'x'.repeat(400);
    const payload = slackMessage(big);
    expect(payload.attachments[0]?.blocks?.length).toBeLessThanOrEqual(50);
    const path = `/services/T1/B1/${unique()}`;
    const result = await createSender({
      mode: 'local',
      mail: { config: parseConfig(baseEnv), database: null },
      recipients: async () => [],
    })(channel('c1', { config: { type: 'slack', webhookUrl: `${baseEnv.FAKE_SLACK_URL}${path}` } }), big, options());
    expect(result.outcome).toBe('delivered');
  });

  it('honours 429 Retry-After, and reports channel_not_found and channel_is_archived as permanent', async () => {
    const path = `/services/T1/B1/${unique()}`;
    await scriptSlack(path, [
      { status: 429, body: 'rate_limited', retryAfterSeconds: 2 },
      { status: 404, body: 'channel_not_found' },
      { status: 410, body: 'channel_is_archived' },
      { status: 500, body: 'rollup_error' },
    ]);
    const sender = createSender({
      mode: 'local',
      mail: { config: parseConfig(baseEnv), database: null },
      recipients: async () => [],
    });
    const slack = channel('c1', { config: { type: 'slack', webhookUrl: `${baseEnv.FAKE_SLACK_URL}${path}` } });
    expect(await sender(slack, message(), options())).toMatchObject({
      outcome: 'retry',
      status: 429,
      retryAfterMs: 2000,
    });
    expect(await sender(slack, message(), options())).toMatchObject({
      outcome: 'permanent',
      error: 'Slack answered channel_not_found',
    });
    expect(await sender(slack, message(), options())).toMatchObject({
      outcome: 'permanent',
      error: 'Slack answered channel_is_archived',
    });
    expect(await sender(slack, message(), options())).toMatchObject({ outcome: 'retry', status: 500 });
  });

  it('refuses a target that is not Slack in production, without sending', async () => {
    const sender = createSender({
      mode: 'production',
      mail: { config: parseConfig(baseEnv), database: null },
      recipients: async () => [],
    });
    const slack = channel('c1', { config: { type: 'slack', webhookUrl: `${baseEnv.FAKE_SLACK_URL}/services/x` } });
    expect(await sender(slack, message(), options())).toMatchObject({ outcome: 'permanent', status: null });
    const hook: NotifyChannel = channel('c2', { config: { type: 'webhook', url: 'https://169.254.169.254/' } });
    expect(await sender(hook, message(), options())).toMatchObject({ outcome: 'permanent', status: null });
  });
});

describe('e-mail channel', () => {
  async function resendReceived(to: string) {
    const res = await fetch(`${baseEnv.FAKE_RESEND_URL}/_received`);
    const { emails } = (await res.json()) as {
      emails: { body: { to: string[]; subject: string; text: string; html: string } }[];
    };
    return emails.filter((e) => e.body.to.includes(to));
  }

  it('sends through Resend with level and rule in the subject and links to the alert and host', async () => {
    const config = parseConfig({
      ...baseEnv,
      PULSEWIRE_MODE: 'production',
      RESEND_API_KEY: 're_test_notify',
      RESEND_BASE_URL: baseEnv.FAKE_RESEND_URL,
    });
    const to = `oncall-${unique()}@example.com`;
    const msg = message({ level: 'critical' });
    expect(await sendEmail({ config, database: null }, [to], msg, options())).toEqual({
      outcome: 'delivered',
      status: 200,
    });
    const [mail] = await resendReceived(to);
    expect(mail?.body.subject).toBe('[CRITICAL] High CPU critical on web-1 disk.used_pct{mount="/data0"}');
    expect(mail?.body.text).toContain(`https://app.pulsewire.test/alerts/${msg.alerts[0]?.id}`);
    expect(mail?.body.text).toContain(`https://app.pulsewire.test/hosts/${HOSTS.web1}`);
    expect(mail?.body.text).toContain('Runbook: https://wiki.example.com/runbooks/cpu');
    expect(mail?.body.html).toContain(`href="https://app.pulsewire.test/alerts/${msg.alerts[0]?.id}"`);
    expect(mail?.body.html).toContain('disk.used_pct{mount=&quot;/data0&quot;}');
  });

  it('retries when Resend fails', async () => {
    const config = parseConfig({
      ...baseEnv,
      PULSEWIRE_MODE: 'production',
      RESEND_API_KEY: 're_test_notify',
      RESEND_BASE_URL: baseEnv.FAKE_RESEND_URL,
    });
    const result = await sendEmail({ config, database: null }, ['bounce@example.com'], message(), options());
    expect(result).toMatchObject({ outcome: 'retry', status: 500 });
  });

  it('uses the dev outbox in local mode without a Resend key', async () => {
    const env = { ...(await isolatedEnv()), RESEND_API_KEY: '' };
    const config = parseConfig(env);
    const handle = openDatabase(config);
    try {
      const to = `dev-${unique()}@example.com`;
      const result = await sendEmail({ config, database: handle.db }, [to], message({ kind: 'resolved' }), options());
      expect(result).toEqual({ outcome: 'delivered', status: null });
      const { rows } = await handle.pool.query('select subject, text from dev_outbox where "to" = $1', [to]);
      expect(rows).toHaveLength(1);
      expect(rows[0].subject).toMatch(/^\[RESOLVED\] Resolved: High CPU on web-1/);
      expect(rows[0].text).toContain('peak 99.1');
    } finally {
      await handle.close();
    }
  });
});
