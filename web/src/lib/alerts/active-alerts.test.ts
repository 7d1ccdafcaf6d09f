import type { Alert } from '@pulsewire/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AlertFilters, AlertPage } from '#lib/api/alerts.ts';
import { fakeSockets } from '#lib/live/fake-socket.ts';
import { StreamClient } from '#lib/live/stream-client.svelte.ts';
import { ActiveAlerts, type AlertFrame, applyAlertFrame, compareActive } from './active-alerts.svelte.ts';
import { ALERT_1, ALERT_2, alert, HOST_A, HOST_B, RULE_CPU } from './fixtures.ts';

const AT = '2026-11-23T12:00:00.000Z';

function frame(overrides: Partial<AlertFrame> = {}): AlertFrame {
  return {
    id: ALERT_1,
    ruleId: RULE_CPU,
    ruleName: 'High CPU',
    hostId: HOST_A,
    level: 'critical',
    state: 'firing',
    metric: 'cpu.total',
    series: 'cpu.total',
    value: 98,
    threshold: 97,
    message: 'CPU busy 98 % > 97 %',
    at: AT,
    ...overrides,
  };
}

describe('applyAlertFrame', () => {
  it('merges a frame into the alert it names, keeping what frames do not carry', () => {
    const { list, known } = applyAlertFrame([alert()], frame({ acknowledged: true }));
    expect(known).toBe(true);
    expect(list).toEqual([
      {
        ...alert(),
        level: 'critical',
        value: 98,
        peak: 98,
        threshold: 97,
        message: 'CPU busy 98 % > 97 %',
        acknowledgedAt: AT,
      },
    ]);
  });

  it('adds an alert it did not hold from the frame alone, and says so', () => {
    const { list, known } = applyAlertFrame([], frame({ id: ALERT_2, state: 'pending', series: undefined }));
    expect(known).toBe(false);
    expect(list[0]).toMatchObject({
      id: ALERT_2,
      hostName: null,
      series: 'cpu.total',
      state: 'pending',
      startedAt: AT,
      firedAt: null,
      silenced: false,
    });
  });

  it('drops a resolved alert from the active list', () => {
    expect(applyAlertFrame([alert()], frame({ state: 'resolved' }))).toEqual({ list: [], known: true });
  });

  it('keeps the peak on the side of the threshold the alert is on', () => {
    const above = applyAlertFrame([alert({ peak: 99, threshold: 90 })], frame({ value: 91, threshold: 90 }));
    expect(above.list[0]?.peak).toBe(99);
    const below = applyAlertFrame([alert({ peak: 5, threshold: 10 })], frame({ value: 3, threshold: 10 }));
    expect(below.list[0]?.peak).toBe(3);
  });

  it('orders firing before stale before pending, critical first, newest first', () => {
    const list: Alert[] = [
      alert({ id: 'p', state: 'pending', level: 'critical' }),
      alert({ id: 'w-old', level: 'warning', firedAt: '2026-11-23T10:00:00.000Z' }),
      alert({ id: 's', state: 'stale' }),
      alert({ id: 'w-new', level: 'warning', firedAt: '2026-11-23T11:00:00.000Z' }),
      alert({ id: 'c', level: 'critical' }),
    ];
    expect(list.sort(compareActive).map((a) => a.id)).toEqual(['c', 'w-new', 'w-old', 's', 'p']);
  });
});

describe('ActiveAlerts', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup(pages: AlertPage[], hostId?: string) {
    const f = fakeSockets();
    const client = new StreamClient({ url: 'ws://x', createSocket: f.create });
    client.connect();
    const socket = f.last();
    socket.open();
    const calls: AlertFilters[] = [];
    const resolvers: ((page: AlertPage) => void)[] = [];
    const fetchPage = (filters: AlertFilters) => {
      calls.push(filters);
      const page = pages.shift();
      return page ? Promise.resolve(page) : new Promise<AlertPage>((resolve) => resolvers.push(resolve));
    };
    const active = new ActiveAlerts(client, { fetchPage, refetchDelayMs: 1000, ...(hostId ? { hostId } : {}) });
    return { socket, active, calls, resolvers };
  }

  it('subscribes to alerts, fetches every page of the active list and follows frames', async () => {
    const { socket, active, calls } = setup([
      { alerts: [alert()], nextCursor: 'c1' },
      { alerts: [alert({ id: ALERT_2, state: 'pending' })], nextCursor: null },
    ]);
    const stop = active.start();
    expect(socket.frames()).toEqual([{ type: 'subscribe', id: 's1', hosts: '*', streams: ['alerts'] }]);
    await vi.waitFor(() => expect(active.loaded).toBe(true));
    expect(calls).toEqual([
      { view: 'active', limit: 500 },
      { view: 'active', limit: 500, cursor: 'c1' },
    ]);
    expect(active.alerts.map((a) => a.id)).toEqual([ALERT_1, ALERT_2]);

    socket.receive({ type: 'alert', seq: 1, alert: frame({ state: 'resolved' }) });
    expect(active.alerts.map((a) => a.id)).toEqual([ALERT_2]);

    stop();
    expect(socket.frames().at(-1)).toMatchObject({ type: 'unsubscribe', hosts: '*', streams: ['alerts'] });
  });

  it('fetches again a little after a frame names an alert it did not hold', async () => {
    const { socket, active, calls } = setup([
      { alerts: [], nextCursor: null },
      { alerts: [alert({ hostName: 'web-1' })], nextCursor: null },
    ]);
    active.start();
    await vi.waitFor(() => expect(active.loaded).toBe(true));
    socket.receive({ type: 'alert', seq: 1, alert: frame() });
    expect(active.alerts[0]?.hostName).toBeNull();
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toHaveLength(2);
    expect(active.alerts[0]?.hostName).toBe('web-1');
  });

  it('applies frames that arrive during a fetch on top of its answer', async () => {
    const { socket, active, resolvers } = setup([]);
    active.start();
    socket.receive({ type: 'alert', seq: 1, alert: frame({ state: 'resolved' }) });
    resolvers[0]?.({ alerts: [alert()], nextCursor: null });
    await vi.waitFor(() => expect(active.loaded).toBe(true));
    expect(active.alerts).toEqual([]);
  });

  it('on a host page: asks for that host and ignores other hosts’ frames', async () => {
    const { socket, active, calls } = setup([{ alerts: [], nextCursor: null }], HOST_A);
    active.start();
    expect(socket.frames()[0]).toMatchObject({ hosts: [HOST_A], streams: ['alerts'] });
    await vi.waitFor(() => expect(active.loaded).toBe(true));
    expect(calls[0]).toMatchObject({ hostId: HOST_A });
    socket.receive({ type: 'alert', seq: 1, alert: frame({ hostId: HOST_B }) });
    expect(active.alerts).toEqual([]);
  });

  it('fetches again when the stream comes back after a drop', async () => {
    const { active, calls } = setup([
      { alerts: [], nextCursor: null },
      { alerts: [], nextCursor: null },
    ]);
    active.start();
    active.connection('open');
    active.connection('open');
    expect(calls).toHaveLength(1);
    active.connection('reconnecting');
    active.connection('open');
    expect(calls).toHaveLength(2);
  });

  it('marks an acknowledged alert with the API’s answer, or locally', () => {
    const { active } = setup([]);
    active.alerts = [alert(), alert({ id: ALERT_2 })];
    active.acknowledged(ALERT_1, null, 'Ada');
    active.acknowledged(ALERT_2, alert({ id: ALERT_2, acknowledgedAt: AT, acknowledgedBy: 'Bob' }), 'Ada');
    expect(active.alerts.map((a) => a.acknowledgedBy)).toEqual(['Ada', 'Bob']);
    expect(active.alerts[0]?.acknowledgedAt).not.toBeNull();
  });
});
