import { WebhookPayload } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { baseEnv } from '../../test/support.ts';
import { parseConfig } from '../env.ts';
import { generateWebhookSecret } from './channels/webhook.ts';
import { Notifier } from './notifier.ts';
import { createSender } from './sender.ts';
import { memoryStorage } from './storage.ts';
import { channel, context, firing, HOSTS, next } from './test-fixtures.ts';

/** The whole notifier: transitions in, a grouped then a resolved webhook out, over HTTP. */
describe('notifier', () => {
  it('groups two hosts into one webhook, then sends the resolution at once', async () => {
    const path = `/hooks/${crypto.randomUUID().slice(0, 8)}`;
    const secret = generateWebhookSecret();
    await fetch(`${baseEnv.FAKE_WEBHOOK_URL}/_endpoints`, { method: 'POST', body: JSON.stringify({ path, secret }) });
    const hook = channel(crypto.randomUUID(), {
      config: { type: 'webhook', url: `${baseEnv.FAKE_WEBHOOK_URL}${path}` },
      secrets: [secret],
    });
    const send = createSender({
      mode: 'local',
      mail: { config: parseConfig(baseEnv), database: null },
      recipients: async () => [],
    });
    const notifier = new Notifier(memoryStorage(), { send });
    const start = Date.now();
    const ctx = (now: number) => context(now, { channels: [hook] });

    const a = firing(start, { hostId: HOSTS.web1 });
    const b = firing(start, { hostId: HOSTS.web2 });
    const first = await notifier.run(ctx(start), [a, b]);
    expect(first.records).toEqual([]);
    expect(first.nextDueAt).toBe(start + 30_000);
    const grouped = await notifier.run(ctx(start + 30_000));
    expect(grouped.records.map((r) => [r.kind, r.status])).toEqual([
      ['firing', 'queued'],
      ['firing', 'sent'],
    ]);
    const resolved = await notifier.run(ctx(start + 60_000), [next(a, start + 60_000, { to: 'ok', peak: 97 })]);
    expect(resolved.records.map((r) => [r.kind, r.status])).toEqual([
      ['resolved', 'queued'],
      ['resolved', 'sent'],
    ]);

    const res = await fetch(`${baseEnv.FAKE_WEBHOOK_URL}/_received?path=${path}`);
    const { deliveries } = (await res.json()) as { deliveries: { payload: unknown }[] };
    const payloads = deliveries.map((d) => WebhookPayload.parse(d.payload));
    expect(payloads.map((p) => [p.type, p.data.alerts.map((x) => x.hostName)])).toEqual([
      ['alert.firing', ['web-1', 'web-2']],
      ['alert.resolved', ['web-1']],
    ]);
    expect(payloads[1]?.data.alerts[0]).toMatchObject({ state: 'resolved', peak: 97, durationSeconds: 60 });
    expect(payloads[0]?.data.groupKey).toBe(payloads[1]?.data.groupKey);
  });
});
