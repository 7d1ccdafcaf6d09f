import { ACK_DELAY_MS, ackDelayOf } from '@pulsewire/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeSockets } from './fake-socket.ts';
import { StreamClient, type StreamClientOptions } from './stream-client.svelte.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

function setup(options: Partial<StreamClientOptions> = {}) {
  const f = fakeSockets();
  const client = new StreamClient({
    url: 'ws://test/api/v1/stream',
    createSocket: f.create,
    random: () => 0.5,
    backoff: { initialMs: 1_000, maxMs: 8_000, factor: 2, jitter: 0.2 },
    ...options,
  });
  return { client, ...f };
}

const sample = (ts: number, total = 10) => ({
  ts,
  cpu: { total, user: total / 2, system: total / 2, iowait: 0, steal: 0, perCore: [total] },
});

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('StreamClient connection', () => {
  it('opens one socket to the URL and moves from connecting to open', () => {
    const { client, sockets, last } = setup();
    expect(client.state).toBe('closed');
    client.connect();
    client.connect();
    expect(sockets).toHaveLength(1);
    expect(last().url).toBe('ws://test/api/v1/stream');
    expect(client.state).toBe('connecting');
    last().open();
    expect(client.state).toBe('open');
  });

  it('sends the keep-alive ping every 25 s while open', () => {
    const { client, last } = setup();
    client.connect();
    const socket = last();
    socket.open();
    vi.advanceTimersByTime(24_999);
    expect(socket.sent).toEqual([]);
    socket.receive({ type: 'pong' });
    vi.advanceTimersByTime(1);
    expect(socket.sent).toEqual(['{"type":"ping"}']);
    socket.receive({ type: 'pong' });
    vi.advanceTimersByTime(25_000);
    expect(socket.sent).toEqual(['{"type":"ping"}', '{"type":"ping"}']);
  });

  it('treats a connection that answers nothing for too long as dropped and reconnects', () => {
    const { client, sockets, last } = setup();
    client.connect();
    const first = last();
    first.open();
    vi.advanceTimersByTime(25_000 * 3);
    expect(first.closedByClient?.code).toBe(4000);
    expect(client.state).toBe('reconnecting');
    vi.advanceTimersByTime(900);
    expect(sockets).toHaveLength(2);
  });

  it('reconnects with exponential backoff and jitter, capped', () => {
    const { client, sockets, last } = setup();
    client.connect();
    // random 0.5, jitter 0.2 → delay = base × 0.9
    const expected = [900, 1_800, 3_600, 7_200, 7_200];
    for (const delay of expected) {
      last().serverClose(1006);
      expect(client.state).toBe('reconnecting');
      const before = sockets.length;
      vi.advanceTimersByTime(delay - 1);
      expect(sockets).toHaveLength(before);
      vi.advanceTimersByTime(1);
      expect(sockets).toHaveLength(before + 1);
      expect(client.state).toBe('reconnecting');
    }
  });

  it('resets the backoff after a stable connection, not after a short one', () => {
    const { client, sockets, last } = setup();
    client.connect();
    last().serverClose(1006);
    vi.advanceTimersByTime(900);
    last().serverClose(1006);
    vi.advanceTimersByTime(1_800);
    // Open briefly: the backoff keeps growing.
    last().open();
    vi.advanceTimersByTime(5_000);
    last().serverClose(1006);
    expect(client.attempt).toBe(3);
    vi.advanceTimersByTime(3_600);
    // Open long enough to count as stable: the next drop starts over at the first delay.
    last().open();
    vi.advanceTimersByTime(10_000);
    expect(client.attempt).toBe(0);
    last().serverClose(1006);
    const before = sockets.length;
    vi.advanceTimersByTime(900);
    expect(sockets).toHaveLength(before + 1);
  });

  it('stops on 4001 and tells the session', () => {
    const onUnauthorized = vi.fn();
    const { client, sockets, last } = setup({ onUnauthorized });
    client.connect();
    last().open();
    last().serverClose(4001, 'unauthorized');
    expect(client.state).toBe('closed');
    expect(client.stoppedBy).toBe(4001);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(120_000);
    expect(sockets).toHaveLength(1);
  });

  it('stops on a policy violation without calling the session', () => {
    const onUnauthorized = vi.fn();
    const { client, sockets, last } = setup({ onUnauthorized });
    client.connect();
    last().open();
    last().serverClose(1008);
    vi.advanceTimersByTime(120_000);
    expect(sockets).toHaveLength(1);
    expect(client.state).toBe('closed');
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('reconnects after "try again later" (1013)', () => {
    const { client, sockets, last } = setup();
    client.connect();
    last().open();
    last().serverClose(1013);
    vi.advanceTimersByTime(900);
    expect(sockets).toHaveLength(2);
  });

  it('close() closes the socket with 1000 and never reconnects', () => {
    const { client, sockets, last } = setup();
    client.connect();
    const socket = last();
    socket.open();
    client.close();
    expect(socket.closedByClient).toEqual({ code: 1000, reason: 'client closed' });
    expect(client.state).toBe('closed');
    vi.advanceTimersByTime(120_000);
    expect(sockets).toHaveLength(1);
    expect(socket.sent).toEqual([]);
  });
});

describe('StreamClient subscriptions', () => {
  it('sends the exact subscribe frame when the first subscriber arrives, once the socket is open', () => {
    const { client, last } = setup();
    const off = client.subscribe({ hosts: ['h1'], streams: ['metrics'] });
    client.connect();
    const socket = last();
    expect(socket.sent).toEqual([]);
    socket.open();
    expect(socket.frames()).toEqual([{ type: 'subscribe', id: 's1', hosts: ['h1'], streams: ['metrics'] }]);
    off();
    expect(socket.frames()[1]).toEqual({ type: 'unsubscribe', id: 's2', hosts: ['h1'] });
  });

  it('shares a unit between subscribers and unsubscribes only when the last one leaves', () => {
    const { client, last } = setup();
    client.connect();
    const socket = last();
    socket.open();
    const a = client.subscribe({ hosts: ['h1'], streams: ['metrics'] });
    // The server replaces a subscription with the same selector: the whole stream set is sent.
    const b = client.subscribe({ hosts: ['h1'], streams: ['metrics', 'events'] });
    const c = client.subscribe({ hosts: ['h1'], streams: ['events'] });
    expect(socket.frames()).toEqual([
      { type: 'subscribe', id: 's1', hosts: ['h1'], streams: ['metrics'] },
      { type: 'subscribe', id: 's2', hosts: ['h1'], streams: ['events', 'metrics'] },
    ]);
    a();
    a(); // a second call is a no-op
    c();
    expect(socket.frames()).toHaveLength(2);
    b();
    expect(socket.frames()[2]).toEqual({ type: 'unsubscribe', id: 's3', hosts: ['h1'] });
    expect(client.subscriptions).toEqual([]);
  });

  it('narrows a host to the streams still wanted when one subscriber leaves', () => {
    const { client, last } = setup();
    client.connect();
    last().open();
    client.subscribe({ hosts: ['h1'], streams: ['metrics'] });
    const ev = client.subscribe({ hosts: ['h1'], streams: ['events'] });
    ev();
    expect(last().frames()).toEqual([
      { type: 'subscribe', id: 's1', hosts: ['h1'], streams: ['metrics'] },
      { type: 'subscribe', id: 's2', hosts: ['h1'], streams: ['events', 'metrics'] },
      { type: 'subscribe', id: 's3', hosts: ['h1'], streams: ['metrics'] },
    ]);
  });

  it('subscribes to every host with "*" and merges filters per selector', () => {
    const { client, last } = setup();
    client.connect();
    last().open();
    client.subscribe({ hosts: '*', streams: ['host_status', 'metrics'] });
    const critical = client.subscribe({ hosts: '*', streams: ['alerts'], filters: { minAlertLevel: 'critical' } });
    const warning = client.subscribe({ hosts: '*', streams: ['alerts'], filters: { minAlertLevel: 'warning' } });
    warning();
    critical();
    expect(last().frames()).toEqual([
      { type: 'subscribe', id: 's1', hosts: '*', streams: ['host_status', 'metrics'] },
      {
        type: 'subscribe',
        id: 's2',
        hosts: '*',
        streams: ['alerts', 'host_status', 'metrics'],
        filters: { minAlertLevel: 'critical' },
      },
      // Two subscribers: the server must send the wider of the two.
      {
        type: 'subscribe',
        id: 's3',
        hosts: '*',
        streams: ['alerts', 'host_status', 'metrics'],
        filters: { minAlertLevel: 'warning' },
      },
      {
        type: 'subscribe',
        id: 's4',
        hosts: '*',
        streams: ['alerts', 'host_status', 'metrics'],
        filters: { minAlertLevel: 'critical' },
      },
      { type: 'subscribe', id: 's5', hosts: '*', streams: ['host_status', 'metrics'] },
    ]);
  });

  it('leaving "*" re-sends explicit hosts that the wildcard unsubscribe also stripped', () => {
    const { client, last } = setup();
    client.connect();
    last().open();
    const all = client.subscribe({ hosts: '*', streams: ['metrics'] });
    client.subscribe({ hosts: ['h1'], streams: ['metrics'] });
    client.subscribe({ hosts: ['h2'], streams: ['events'] });
    all();
    expect(last().frames().slice(3)).toEqual([
      { type: 'unsubscribe', id: 's4', hosts: '*', streams: ['metrics'] },
      { type: 'subscribe', id: 's5', hosts: ['h1'], streams: ['metrics'] },
    ]);
  });

  it('re-sends every wanted subscription after a reconnect, and not the released ones', () => {
    const { client, last } = setup();
    client.connect();
    last().open();
    client.subscribe({ hosts: ['h1'], streams: ['metrics'] });
    client.subscribe({ hosts: '*', streams: ['host_status'] });
    client.subscribe({ hosts: ['h2'], streams: ['metrics'] });
    const gone = client.subscribe({ hosts: ['h3'], streams: ['metrics'] });
    gone();
    last().serverClose(1006);
    vi.advanceTimersByTime(900);
    const second = last();
    expect(second.sent).toEqual([]);
    second.open();
    expect(second.frames()).toEqual([
      { type: 'subscribe', id: 's6', hosts: '*', streams: ['host_status'] },
      { type: 'subscribe', id: 's7', hosts: ['h1'], streams: ['metrics'] },
      { type: 'subscribe', id: 's8', hosts: ['h2'], streams: ['metrics'] },
    ]);
    expect(client.state).toBe('open');
  });

  it('does not send while reconnecting, and the subscription made meanwhile goes out on open', () => {
    const { client, last } = setup();
    client.connect();
    last().open();
    last().serverClose(1006);
    const off = client.subscribe({ hosts: ['h9'], streams: ['metrics'] });
    off();
    client.subscribe({ hosts: ['h8'], streams: ['events'] });
    vi.advanceTimersByTime(900);
    last().open();
    expect(last().frames()).toEqual([{ type: 'subscribe', id: 's1', hosts: ['h8'], streams: ['events'] }]);
  });

  it('retryNow() reconnects at once while waiting', () => {
    const { client, sockets } = setup();
    client.connect();
    sockets[0]?.serverClose(1006);
    client.retryNow();
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(2);
  });
});

describe('StreamClient messages', () => {
  it('dispatches valid messages to typed handlers and drops invalid ones, counting them', () => {
    const { client, last } = setup();
    client.connect();
    const socket = last();
    socket.open();
    const forH1 = vi.fn();
    const forAll = vi.fn();
    const status = vi.fn();
    const events = vi.fn();
    const alerts = vi.fn();
    const offH1 = client.onMetrics('h1', forH1);
    client.onMetrics('*', forAll);
    client.onHostStatus(status);
    client.onEvent(events);
    client.onAlert(alerts);

    socket.receive({ type: 'metrics', seq: 1, hostId: 'h1', samples: [sample(T0 - 1000)] });
    socket.receive({ type: 'metrics', seq: 2, hostId: 'h2', samples: [sample(T0 - 1000)] });
    expect(forH1).toHaveBeenCalledTimes(1);
    expect(forH1).toHaveBeenCalledWith('h1', [sample(T0 - 1000)]);
    expect(forAll.mock.calls.map((c) => c[0])).toEqual(['h1', 'h2']);

    const hostStatus = {
      type: 'host_status',
      seq: 3,
      hostId: 'h1',
      status: 'offline',
      previous: 'online',
      lastSeenAt: '2026-11-23T11:58:00.000Z',
      at: '2026-11-23T12:00:00.000Z',
    };
    socket.receive(hostStatus);
    expect(status).toHaveBeenCalledWith(hostStatus);
    // A page of statuses (snapshot or an alarm's changes) reads as one host_status per entry.
    socket.receive({
      type: 'host_statuses',
      seq: 30,
      at: hostStatus.at,
      statuses: [
        { hostId: 'h2', status: 'stale', previous: 'online', lastSeenAt: hostStatus.lastSeenAt },
        { hostId: 'h3', status: 'online', previous: null, lastSeenAt: null },
      ],
    });
    expect(status).toHaveBeenCalledTimes(3);
    expect(status).toHaveBeenLastCalledWith({
      type: 'host_status',
      seq: 30,
      hostId: 'h3',
      status: 'online',
      previous: null,
      lastSeenAt: null,
      at: hostStatus.at,
    });

    socket.receive({ type: 'event', seq: 4, hostId: 'h1', event: { ts: T0, kind: 'job.started', id: 'job-1' } });
    expect(events).toHaveBeenCalledTimes(1);

    // Invalid: not JSON, unknown type, wrong shape, a status that does not exist.
    socket.receive('not json');
    socket.receive({ type: 'nope' });
    socket.receive({ type: 'metrics', seq: 5, hostId: 'h1', samples: [{ cpu: 'high' }] });
    socket.receive({ ...hostStatus, status: 'exploded' });
    expect(client.invalidMessages).toBe(4);
    expect(forH1).toHaveBeenCalledTimes(1);
    expect(status).toHaveBeenCalledTimes(3);
    expect(alerts).not.toHaveBeenCalled();

    offH1();
    socket.receive({ type: 'metrics', seq: 6, hostId: 'h1', samples: [sample(T0)] });
    expect(forH1).toHaveBeenCalledTimes(1);
    expect(forAll).toHaveBeenCalledTimes(3);
  });

  it('keeps dispatching when a handler throws', () => {
    const { client, last } = setup();
    client.connect();
    last().open();
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const good = vi.fn();
    client.onMetrics('h1', () => {
      throw new Error('boom');
    });
    client.onMetrics('h1', good);
    last().receive({ type: 'metrics', seq: 7, hostId: 'h1', samples: [sample(T0)] });
    expect(good).toHaveBeenCalledTimes(1);
    expect(error).toHaveBeenCalled();
    error.mockRestore();
  });

  it('after a reconnect reports the missed range per watched host, from its last sample to now', () => {
    const { client, last } = setup();
    const gaps: [string, { from: number; to: number }][] = [];
    client.onGap((hostId, range) => gaps.push([hostId, range]));
    client.subscribe({ hosts: ['h1', 'h2'], streams: ['metrics'] });
    const h3 = client.subscribe({ hosts: ['h3'], streams: ['metrics'] });
    client.connect();
    last().open();
    last().receive({ type: 'metrics', seq: 8, hostId: 'h1', samples: [sample(T0 - 2000), sample(T0 - 1000)] });
    last().receive({ type: 'metrics', seq: 9, hostId: 'h3', samples: [sample(T0 - 1000)] });
    h3();
    expect(gaps).toEqual([]);

    last().serverClose(1006);
    vi.advanceTimersByTime(900);
    vi.advanceTimersByTime(4_100);
    last().open();
    // h2 never sent anything (nothing to fill), h3 is no longer watched.
    expect(gaps).toEqual([['h1', { from: T0 - 1000, to: T0 + 5_000 }]]);
  });

  it('does not report gaps on the first connection', () => {
    const { client, last } = setup();
    const onGap = vi.fn();
    client.onGap(onGap);
    client.subscribe({ hosts: '*', streams: ['metrics'] });
    client.connect();
    last().open();
    expect(onGap).not.toHaveBeenCalled();
  });
});

describe('StreamClient flow control', () => {
  /** This client's ack delay: the protocol's, less the part its `random` (0.5 here) draws. */
  const ACK_DELAY = ackDelayOf(ACK_DELAY_MS, () => 0.5);
  const metrics = (seq: number) => ({ type: 'metrics', seq, hostId: 'h1', samples: [sample(T0)] });

  it('acks within the ack delay of the oldest unacknowledged frame, checking as frames arrive', () => {
    const { client, last } = setup();
    client.connect();
    const socket = last();
    socket.open();
    socket.receive({ type: 'subscribed', subscriptions: [] });
    socket.receive({ type: 'pong' });
    expect(socket.acks()).toEqual([]); // frames without seq are not acknowledged

    socket.receive(metrics(10));
    expect(socket.acks()).toEqual([]); // not at once: every socket fed the same frame would ack together
    vi.advanceTimersByTime(100);
    socket.receive(metrics(11));
    socket.receive(metrics(12));
    expect(socket.acks()).toEqual([]);

    // A background tab: the clock moves on but timers do not fire. The next frame acks by itself.
    vi.setSystemTime(T0 + ACK_DELAY + 100);
    socket.receive({ ...metrics(13), type: 'event', event: { ts: T0, kind: 'job.started', id: 'j' } });
    expect(socket.acks()).toEqual([13]);
  });

  it('acks the latest frame with a trailing timer when no frame follows, and only once', () => {
    const { client, last } = setup();
    client.connect();
    const socket = last();
    socket.open();
    socket.receive(metrics(1));
    vi.advanceTimersByTime(50);
    socket.receive(metrics(2));
    socket.receive(metrics(3));
    vi.advanceTimersByTime(ACK_DELAY - 51);
    expect(socket.acks()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(socket.acks()).toEqual([3]);
    vi.advanceTimersByTime(ACK_DELAY * 4);
    expect(socket.acks()).toEqual([3]);
  });

  it('stays far below the server rate limit under a flood of frames', () => {
    const { client, last } = setup();
    client.connect();
    const socket = last();
    socket.open();
    for (let seq = 1; seq <= 1000; seq++) {
      socket.receive(metrics(seq));
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(250);
    expect(socket.acks().length).toBeLessThanOrEqual(5);
    expect(socket.acks().at(-1)).toBe(1000);
  });

  it('starts over on a new socket: nothing pending from the old one is acked on the new one', () => {
    const { client, last } = setup();
    client.connect();
    const first = last();
    first.open();
    first.receive(metrics(50));
    first.receive(metrics(51));
    first.serverClose(1013, 'too slow: acknowledge frames');
    client.retryNow(); // back within the same 250 ms
    const second = last();
    expect(second).not.toBe(first);
    second.open();
    second.receive(metrics(7));
    vi.advanceTimersByTime(ACK_DELAY);
    expect(first.acks()).toEqual([]);
    expect(second.acks()).toEqual([7]);
  });
});

describe('StreamClient unknown hosts', () => {
  const refused = (id: string, hostIds: string[]) => ({
    type: 'error',
    code: 'unknown_host',
    message: `not hosts of this organisation: ${hostIds.join(', ')}`,
    id,
    hostIds,
  });

  it('lists hosts the server refused and does not ask for them again, even after a reconnect', () => {
    const { client, last } = setup();
    const errors = vi.fn();
    client.onError(errors);
    client.connect();
    last().open();
    const page = client.subscribe({ hosts: ['ghost'], streams: ['metrics'] });
    client.subscribe({ hosts: ['h1'], streams: ['metrics'] });
    last().receive(refused('s1', ['ghost']));
    expect(client.unknownHosts.has('ghost')).toBe(true);
    expect(errors).toHaveBeenCalledWith(expect.objectContaining({ code: 'unknown_host', hostIds: ['ghost'] }));

    // Another subscriber, then a reconnect: only h1 goes out.
    const panel = client.subscribe({ hosts: ['ghost'], streams: ['events'] });
    last().serverClose(1006);
    vi.advanceTimersByTime(900);
    last().open();
    expect(last().frames()).toEqual([{ type: 'subscribe', id: 's3', hosts: ['h1'], streams: ['metrics'] }]);

    // Once nobody wants it, the next subscriber asks again (it may have been enrolled meanwhile).
    page();
    expect(client.unknownHosts.has('ghost')).toBe(true);
    panel();
    expect(client.unknownHosts.has('ghost')).toBe(false);
    expect(last().frames()).toHaveLength(1); // nothing to unsubscribe: the server holds nothing for it
    client.subscribe({ hosts: ['ghost'], streams: ['metrics'] });
    expect(last().frames().at(-1)).toEqual({ type: 'subscribe', id: 's4', hosts: ['ghost'], streams: ['metrics'] });
  });

  it('forgets unknown hosts when connecting anew (another organisation has other hosts)', () => {
    const { client, last } = setup();
    client.subscribe({ hosts: ['h9'], streams: ['metrics'] });
    client.connect();
    last().open();
    last().receive(refused('s1', ['h9']));
    client.close();
    client.connect();
    expect(client.unknownHosts.size).toBe(0);
    last().open();
    expect(last().frames()).toEqual([{ type: 'subscribe', id: 's2', hosts: ['h9'], streams: ['metrics'] }]);
  });
});
