import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ALERT_1,
  ALERT_2,
  alert,
  CHANNEL_MAIL,
  cpuRule,
  emailChannel,
  HOST_A,
  RULE_CPU,
} from '#lib/alerts/fixtures.ts';
import { alertQueryString, alerts, channels, maintenanceWindows, rules, silences } from './alerts.ts';
import { ApiError } from './client.ts';

const fetchMock = vi.fn<typeof fetch>();

beforeEach(() => {
  fetchMock.mockReset();
  vi.stubGlobal('fetch', fetchMock);
});
afterEach(() => {
  vi.unstubAllGlobals();
});

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const call = (i = 0) => {
  const [url, init] = fetchMock.mock.calls[i] ?? [];
  return { url, method: init?.method, body: init?.body === undefined ? undefined : JSON.parse(String(init.body)) };
};

describe('alertQueryString', () => {
  it('writes the filters in a stable order and leaves empty ones out', () => {
    expect(
      alertQueryString({
        cursor: 'abc',
        to: '2026-11-23T12:00:00.000Z',
        hostId: HOST_A,
        level: 'critical',
        view: 'history',
        ruleId: '',
        from: undefined,
      }),
    ).toBe(`?view=history&level=critical&hostId=${HOST_A}&to=2026-11-23T12%3A00%3A00.000Z&cursor=abc`);
  });

  it('is empty without filters', () => {
    expect(alertQueryString({})).toBe('');
  });
});

describe('rules', () => {
  it('lists rules parsed with the protocol schema', async () => {
    fetchMock.mockResolvedValueOnce(json({ rules: [cpuRule()] }));
    const answer = await rules.list();
    expect(answer.rules[0]?.name).toBe('High CPU');
    expect(call().url).toBe('/api/v1/rules');
  });

  it('refuses a rule list whose rules do not match the contract', async () => {
    const broken = { ...cpuRule(), condition: { kind: 'threshold', metric: { path: 'cpu.total' } } };
    fetchMock.mockResolvedValueOnce(json({ rules: [{ ...broken, scope: { type: 'everywhere' } }] }));
    await expect(rules.list()).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('sends a patch to the rule and parses the updated rule', async () => {
    fetchMock.mockResolvedValueOnce(json(cpuRule({ enabled: false })));
    const rule = await rules.update(RULE_CPU, { enabled: false });
    expect(rule.enabled).toBe(false);
    expect(call()).toEqual({ url: `/api/v1/rules/${RULE_CPU}`, method: 'PATCH', body: { enabled: false } });
  });

  it('takes a 200 {ok} or an empty 204 as a delete', async () => {
    fetchMock.mockResolvedValueOnce(json({ ok: true, message: 'Deleted' }));
    fetchMock.mockResolvedValueOnce(new Response(null, { status: 204 }));
    await expect(rules.remove(RULE_CPU)).resolves.toBeUndefined();
    await expect(rules.remove(RULE_CPU)).resolves.toBeUndefined();
    expect(call(1).method).toBe('DELETE');
  });

  it('previews a rule with the hours asked for', async () => {
    const preview = {
      hosts: [
        {
          hostId: HOST_A,
          hostName: 'web-1',
          series: [
            {
              key: 'cpu.total',
              labels: {},
              points: [
                [1, 50],
                [2, null],
              ],
              wouldFire: 'warning',
              value: 93,
            },
          ],
        },
      ],
    };
    fetchMock.mockResolvedValueOnce(json(preview));
    const { condition, name } = cpuRule();
    const answer = await rules.preview({ name, condition }, { hours: 6 });
    expect(answer.hosts[0]?.series[0]?.points).toEqual([
      [1, 50],
      [2, null],
    ]);
    expect(call()).toMatchObject({ url: '/api/v1/rules/preview', method: 'POST', body: { rule: { name }, hours: 6 } });
  });

  it('maps a validation error body to an ApiError with its path', async () => {
    fetchMock.mockResolvedValueOnce(
      json(
        {
          error: {
            code: 'threshold_order',
            message: 'the critical threshold must be at or above the warning threshold',
            path: 'condition.critical.threshold',
          },
        },
        400,
      ),
    );
    const error = await rules.create({ name: 'x', condition: cpuRule().condition }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: 'threshold_order', path: 'condition.critical.threshold' });
  });
});

describe('channels', () => {
  it('returns the secret of a new webhook channel once', async () => {
    const channel = emailChannel({
      name: 'Hook',
      config: { type: 'webhook', url: 'https://example.com/hook', secretHint: 'whsec_…abcd' },
      builtIn: false,
    });
    fetchMock.mockResolvedValueOnce(json({ channel, secret: 'whsec_c2VjcmV0' }, 201));
    const created = await channels.create({
      name: 'Hook',
      config: { type: 'webhook', url: 'https://example.com/hook' },
    });
    expect(created.secret).toBe('whsec_c2VjcmV0');
    expect(created.channel.config).toMatchObject({ type: 'webhook', secretHint: 'whsec_…abcd' });
  });

  it('reads a test answer as the delivery-log line of its first attempt', async () => {
    const delivery = {
      id: ALERT_1,
      channelId: CHANNEL_MAIL,
      kind: 'test',
      status: 'retrying',
      attempts: 1,
      latencyMs: 12,
      lastError: 'HTTP 500',
      lastStatus: 500,
      alertId: null,
      alertIds: [],
      createdAt: '2026-11-23T12:00:00.000Z',
      sentAt: null,
    };
    fetchMock.mockResolvedValueOnce(json({ delivery }, 200));
    await expect(channels.test(CHANNEL_MAIL)).resolves.toMatchObject({ status: 'retrying', lastStatus: 500 });
    expect(call()).toMatchObject({ url: `/api/v1/channels/${CHANNEL_MAIL}/test`, method: 'POST' });
    fetchMock.mockResolvedValueOnce(json({ ok: true, message: 'Queued' }, 200));
    await expect(channels.test(CHANNEL_MAIL)).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('lists deliveries of one channel', async () => {
    fetchMock.mockResolvedValueOnce(json({ deliveries: [] }));
    await channels.deliveries(CHANNEL_MAIL);
    expect(call().url).toBe(`/api/v1/channels/${CHANNEL_MAIL}/deliveries`);
  });
});

describe('alerts', () => {
  it('lists with the filters as query parameters', async () => {
    fetchMock.mockResolvedValueOnce(json({ alerts: [alert()], nextCursor: 'next' }));
    const page = await alerts.list({ view: 'active', hostId: HOST_A });
    expect(page.nextCursor).toBe('next');
    expect(call().url).toBe(`/api/v1/alerts?view=active&hostId=${HOST_A}`);
  });

  it('acknowledges: the alert when the API sends it back, else null', async () => {
    fetchMock.mockResolvedValueOnce(json(alert({ acknowledgedAt: '2026-11-23T12:01:00.000Z', acknowledgedBy: 'Ada' })));
    fetchMock.mockResolvedValueOnce(json({ ok: true, message: 'Acknowledged' }));
    await expect(alerts.acknowledge(ALERT_1)).resolves.toMatchObject({ acknowledgedBy: 'Ada' });
    await expect(alerts.acknowledge(ALERT_1)).resolves.toBeNull();
    expect(call()).toMatchObject({ url: `/api/v1/alerts/${ALERT_1}/ack`, method: 'POST' });
  });
});

describe('silences and maintenance windows', () => {
  it('expires a silence with DELETE', async () => {
    fetchMock.mockResolvedValueOnce(json({ ok: true, message: 'Expired' }));
    await silences.expire(ALERT_2);
    expect(call()).toMatchObject({ url: `/api/v1/silences/${ALERT_2}`, method: 'DELETE' });
  });

  it('parses a created maintenance window', async () => {
    const window = {
      id: ALERT_2,
      name: 'Sunday backups',
      timeZone: 'Europe/Paris',
      days: ['sun'],
      start: '02:00',
      durationMinutes: 120,
      matchers: [],
      enabled: true,
      createdAt: '2026-11-23T12:00:00.000Z',
      activeNow: false,
    };
    fetchMock.mockResolvedValueOnce(json(window, 201));
    const created = await maintenanceWindows.create({
      name: 'Sunday backups',
      timeZone: 'Europe/Paris',
      days: ['sun'],
      start: '02:00',
      durationMinutes: 120,
    });
    expect(created.activeNow).toBe(false);
  });
});
