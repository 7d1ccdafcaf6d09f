import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSlack, startFakeSlack } from './slack.ts';
import { type FakeWebhookReceiver, startFakeWebhookReceiver } from './webhook-receiver.ts';

const SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;

describe('fake webhook receiver', () => {
  let receiver: FakeWebhookReceiver;
  beforeAll(async () => {
    receiver = await startFakeWebhookReceiver();
  });
  afterAll(() => receiver.stop());

  const post = (path: string, id: string, body: string, secret = SECRET) => {
    const now = new Date();
    return fetch(`${receiver.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign(id, now, body),
      },
      body,
    });
  };

  it('verifies signatures, and processes a re-sent webhook-id once', async () => {
    receiver.register('/a', SECRET);
    expect((await post('/a', 'msg_1', '{"n":1}')).status).toBe(204);
    expect((await post('/a', 'msg_1', '{"n":1}')).status).toBe(204);
    const wrong = `whsec_${Buffer.from('another secret, 32 bytes long!!!').toString('base64')}`;
    expect((await post('/a', 'msg_2', '{"n":2}', wrong)).status).toBe(401);
    expect(receiver.attempts.filter((a) => a.path === '/a').map((a) => a.verified)).toEqual([true, true, false]);
    expect(receiver.deliveries.filter((d) => d.path === '/a').map((d) => d.payload)).toEqual([{ n: 1 }]);
  });

  it('fails as scripted over HTTP, then accepts', async () => {
    const script = await fetch(`${receiver.url}/_endpoints`, {
      method: 'POST',
      body: JSON.stringify({
        path: '/b',
        secret: SECRET,
        responses: [{ status: 503 }, { status: 429, retryAfterSeconds: 7 }],
      }),
    });
    expect(script.status).toBe(204);
    expect((await post('/b', 'msg_3', '{}')).status).toBe(503);
    const throttled = await post('/b', 'msg_3', '{}');
    expect([throttled.status, throttled.headers.get('retry-after')]).toEqual([429, '7']);
    expect((await post('/b', 'msg_3', '{}')).status).toBe(204);
    const received = await (await fetch(`${receiver.url}/_received?path=/b`)).json();
    expect(received.attempts).toHaveLength(3);
    expect(received.deliveries).toHaveLength(1);
  });
});

describe('fake Slack webhook', () => {
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await startFakeSlack();
  });
  afterAll(() => slack.stop());

  const post = (path: string, body: unknown) =>
    fetch(`${slack.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

  it('accepts Block Kit within the limits and refuses what Slack refuses', async () => {
    const header = (text: string) => ({ type: 'header', text: { type: 'plain_text', text } });
    expect((await post('/services/T/B/ok', { text: 'hi', blocks: [header('x'), section('y')] })).status).toBe(200);
    const refused = [
      { blocks: [section('no text fallback')] },
      { text: 'long header', blocks: [header('x'.repeat(151))] },
      { text: 'long section', blocks: [section('x'.repeat(3001))] },
      { text: 'too many', attachments: [{ color: '#f00', blocks: Array.from({ length: 51 }, () => section('x')) }] },
    ];
    for (const body of refused) {
      const res = await post('/services/T/B/bad', body);
      expect([res.status, await res.text()]).toEqual([400, 'invalid_payload']);
    }
    expect(slack.received.map((r) => r.path)).toEqual(['/services/T/B/ok']);
  });

  it('answers scripted errors: 429 with Retry-After, a sticky channel_not_found', async () => {
    slack.script('/services/T/B/busy', [{ status: 429, body: 'rate_limited', retryAfterSeconds: 3 }]);
    const busy = await post('/services/T/B/busy', { text: 'x' });
    expect([busy.status, busy.headers.get('retry-after')]).toEqual([429, '3']);
    expect((await post('/services/T/B/busy', { text: 'x' })).status).toBe(200);
    slack.script('/services/T/B/gone', [{ status: 404, body: 'channel_not_found' }], true);
    for (let i = 0; i < 2; i++) {
      const gone = await post('/services/T/B/gone', { text: 'x' });
      expect([gone.status, await gone.text()]).toEqual([404, 'channel_not_found']);
    }
  });
});
