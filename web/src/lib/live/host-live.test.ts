import type { LiveSample } from '@pulsewire/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeSockets } from './fake-socket.ts';
import { HostLive } from './host-live.svelte.ts';
import { StreamClient } from './stream-client.svelte.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const s = (ts: number): LiveSample => ({ ts, load1: 1 });
/** Lets the fake history's promises settle without moving the fake clock. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('HostLive', () => {
  it('subscribes by id, fills the window from history, adds live samples and fills the gap after a reconnect', async () => {
    const f = fakeSockets();
    const client = new StreamClient({ url: 'ws://x', createSocket: f.create, random: () => 0 });
    client.connect();
    f.last().open();
    const fetchSeries = vi.fn(async (_id: string, from: number, to: number) => [s(from + 1_000), s(to - 1_000)]);
    const host = new HostLive(client, 'h1', { fetchSeries, windowMs: 60_000 });
    const stop = host.start();

    expect(f.last().frames()).toEqual([{ type: 'subscribe', id: 's1', hosts: ['h1'], streams: ['metrics'] }]);
    expect(fetchSeries).toHaveBeenCalledWith('h1', T0 - 60_000, T0, { signal: expect.any(AbortSignal) });
    await settle();
    expect(host.rolling.points.map((p) => p.ts)).toEqual([T0 - 59_000, T0 - 1_000]);

    f.last().receive({ type: 'metrics', seq: 1, hostId: 'h1', samples: [s(T0)] });
    f.last().receive({ type: 'metrics', seq: 2, hostId: 'h2', samples: [s(T0 + 1)] });
    expect(host.rolling.latest?.ts).toBe(T0);

    // Drop, stay away for 5 s, come back: the missed range is asked for.
    f.last().serverClose(1006);
    vi.advanceTimersByTime(5_000);
    f.last().open();
    expect(fetchSeries).toHaveBeenLastCalledWith('h1', T0, T0 + 5_000, { signal: expect.any(AbortSignal) });
    await settle();
    expect(host.rolling.latest?.ts).toBe(T0 + 4_000);

    stop();
    expect(f.last().frames().at(-1)).toEqual({ type: 'unsubscribe', id: 's3', hosts: ['h1'] });
    f.last().receive({ type: 'metrics', seq: 3, hostId: 'h1', samples: [s(T0 + 6_000)] });
    expect(host.rolling.latest?.ts).toBe(T0 + 4_000);
  });

  it('slides the window every second and survives a failing history', async () => {
    const f = fakeSockets();
    const client = new StreamClient({ url: 'ws://x', createSocket: f.create });
    const host = new HostLive(client, 'h1', {
      windowMs: 10_000,
      fetchSeries: async () => {
        throw new Error('down');
      },
    });
    const stop = host.start();
    await settle();
    expect(host.filling).toBe(false);
    host.rolling.add([s(T0 - 1_000)]);
    vi.advanceTimersByTime(9_000);
    expect(host.rolling.points).toHaveLength(1);
    vi.advanceTimersByTime(1_000);
    expect(host.rolling.points).toHaveLength(0);
    stop();
  });

  it('says so when the server does not know the host', () => {
    const f = fakeSockets();
    const client = new StreamClient({ url: 'ws://x', createSocket: f.create });
    client.connect();
    f.last().open();
    const host = new HostLive(client, 'h404', { fetchSeries: async () => [] });
    const stop = host.start();
    expect(host.unknownHost).toBe(false);
    f.last().receive({
      type: 'error',
      code: 'unknown_host',
      message: 'not hosts of this organisation: h404',
      id: 's1',
      hostIds: ['h404'],
    });
    expect(host.unknownHost).toBe(true);
    stop();
    expect(host.unknownHost).toBe(false);
  });
});
