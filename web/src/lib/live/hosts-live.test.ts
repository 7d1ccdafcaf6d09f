import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeSockets } from './fake-socket.ts';
import { HostsLive } from './hosts-live.svelte.ts';
import { StreamClient } from './stream-client.svelte.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('HostsLive', () => {
  it('follows every host: status changes and rolling samples per host', () => {
    const f = fakeSockets();
    const client = new StreamClient({ url: 'ws://x', createSocket: f.create });
    client.connect();
    const socket = f.last();
    socket.open();
    const onStatus = vi.fn();
    const hosts = new HostsLive(client, { onStatus });
    const stop = hosts.start();
    expect(socket.frames()).toEqual([{ type: 'subscribe', id: 's1', hosts: '*', streams: ['host_status', 'metrics'] }]);

    socket.receive({
      type: 'host_status',
      seq: 1,
      hostId: 'h1',
      status: 'stale',
      previous: 'online',
      lastSeenAt: '2026-11-23T11:59:00.000Z',
      at: '2026-11-23T12:00:00.000Z',
    });
    expect(hosts.statuses.get('h1')).toEqual({ status: 'stale', lastSeenAt: '2026-11-23T11:59:00.000Z' });
    expect(onStatus).toHaveBeenCalledWith(expect.objectContaining({ hostId: 'h1', status: 'stale' }));

    socket.receive({ type: 'metrics', seq: 2, hostId: 'h2', samples: [{ ts: T0 - 20_000 }, { ts: T0 - 10_000 }] });
    socket.receive({ type: 'metrics', seq: 3, hostId: 'h3', samples: [{ ts: T0 }] });
    expect(hosts.series.get('h2')?.points.map((p) => p.ts)).toEqual([T0 - 20_000, T0 - 10_000]);
    expect([...hosts.series.keys()]).toEqual(['h2', 'h3']);

    stop();
    expect(socket.frames().at(-1)).toEqual({
      type: 'unsubscribe',
      id: 's2',
      hosts: '*',
      streams: ['host_status', 'metrics'],
    });
    socket.receive({ type: 'metrics', seq: 4, hostId: 'h4', samples: [{ ts: T0 }] });
    expect(hosts.series.has('h4')).toBe(false);
  });
});
