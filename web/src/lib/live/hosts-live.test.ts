import type { LiveSample } from '@pulsewire/protocol';
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

const HOST_A = '0b8e4a7e-5c1d-4f7a-9a36-2f0e4d6c8b11';
const seenAt = (ms: number) => new Date(ms).toISOString();
const cpuAt = (ts: number, total: number): LiveSample => ({
  ts,
  cpu: { total, user: total, system: 0, iowait: 0, steal: 0, perCore: [total] },
  mem: { total: 100, used: total, cached: 0, swapTotal: 0, swapUsed: 0 },
  net: [{ iface: 'eth0', rx: total, tx: 0 }],
});
/** Lets the fake history's promises settle without moving the fake clock. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** A sparkline history whose answers the test releases; records every request. */
function controlledHistory() {
  const calls: { hostIds: string[]; from: number; to: number }[] = [];
  const answers: ((byHost: Map<string, LiveSample[]>) => void)[] = [];
  const fetchSparklines = vi.fn(
    (hostIds: readonly string[], from: number, to: number, _options?: { signal?: AbortSignal }) =>
      new Promise<Map<string, LiveSample[]>>((resolve) => {
        calls.push({ hostIds: [...hostIds], from, to });
        answers.push(resolve);
      }),
  );
  return {
    fetchSparklines,
    calls,
    answer: (i: number, byHost: Record<string, LiveSample[]>) => answers[i]?.(new Map(Object.entries(byHost))),
  };
}

function openClient() {
  const f = fakeSockets();
  const client = new StreamClient({ url: 'ws://x', createSocket: f.create, random: () => 0 });
  client.connect();
  f.last().open();
  return { f, client };
}

describe('HostsLive history fill', () => {
  it('fills the listed hosts in one request over the window, each host once, so sparklines start drawn', async () => {
    const { f, client } = openClient();
    const history = controlledHistory();
    const hosts = new HostsLive(client, { fetchSparklines: history.fetchSparklines, windowMs: 60_000 });
    const stop = hosts.start();
    const list = ['h1', 'h2', 'h3', 'h4'].map((id) => ({ id, lastSeenAt: seenAt(T0 - 5_000) }));
    hosts.fill([
      ...list,
      { id: 'never', lastSeenAt: null },
      // Not seen within the window: it has no history there to fetch.
      { id: 'gone', lastSeenAt: seenAt(T0 - 61_000) },
    ]);

    expect(history.calls).toEqual([{ hostIds: ['h1', 'h2', 'h3', 'h4'], from: T0 - 60_000, to: T0 }]);
    expect(hosts.fillsPending).toBe(1);
    history.answer(0, { h1: [cpuAt(T0 - 30_000, 10), cpuAt(T0 - 10_000, 20)], h2: [cpuAt(T0 - 10_000, 5)] });
    await settle();
    expect(hosts.series.get('h1')?.cpuTotal.rows.map((r) => r.values.total)).toEqual([10, 20]);
    expect(hosts.series.get('h1')?.memoryPct.rows).toHaveLength(2);
    expect(hosts.series.get('h1')?.networkTotal.rows).toHaveLength(2);
    expect(hosts.series.get('h2')?.cpuTotal.rows).toHaveLength(1);
    // No history creates nothing: the row shows no sparkline until a sample arrives.
    expect(hosts.series.has('h3')).toBe(false);
    expect(hosts.fillsPending).toBe(0);

    // The list is fetched again every 10 s, live frames keep coming: neither asks the history again.
    vi.advanceTimersByTime(10_000);
    hosts.fill(list);
    f.last().receive({ type: 'metrics', seq: 1, hostId: 'h1', samples: [cpuAt(T0 + 10_000, 30)] });
    expect(history.calls).toHaveLength(1);
    expect(hosts.series.get('h1')?.cpuTotal.rows.map((r) => r.values.total)).toEqual([10, 20, 30]);

    // A host seen again (or newly enrolled, or on the next page) is filled on the next list answer, once.
    hosts.fill([...list, { id: 'gone', lastSeenAt: seenAt(T0 + 9_000) }, { id: 'h5', lastSeenAt: seenAt(T0) }]);
    expect(history.calls.at(-1)).toEqual({ hostIds: ['gone', 'h5'], from: T0 + 10_000 - 60_000, to: T0 + 10_000 });
    expect(history.calls).toHaveLength(2);
    stop();
  });

  it('merges history with live samples that arrived first: one point per ts, live points append after', async () => {
    const { f, client } = openClient();
    const history = controlledHistory();
    const hosts = new HostsLive(client, { fetchSparklines: history.fetchSparklines });
    const stop = hosts.start();
    hosts.fill([{ id: 'h1', lastSeenAt: seenAt(T0) }]);

    // The live frame beats the history answer, which holds the same instant.
    f.last().receive({ type: 'metrics', seq: 1, hostId: 'h1', samples: [cpuAt(T0 - 1_000, 40)] });
    history.answer(0, { h1: [cpuAt(T0 - 61_000, 10), cpuAt(T0 - 31_000, 20), cpuAt(T0 - 1_000, 40)] });
    await settle();
    f.last().receive({ type: 'metrics', seq: 2, hostId: 'h1', samples: [cpuAt(T0 + 29_000, 50)] });

    const rolling = hosts.series.get('h1');
    expect(rolling?.points.map((p) => p.ts)).toEqual([T0 - 61_000, T0 - 31_000, T0 - 1_000, T0 + 29_000]);
    expect(rolling?.cpuTotal.rows.map((r) => r.values.total)).toEqual([10, 20, 40, 50]);
    expect(rolling?.networkTotal.rows).toHaveLength(4);
    stop();
  });

  it('fills the gaps of every host after a reconnect with one request', async () => {
    const { f, client } = openClient();
    const history = controlledHistory();
    const hosts = new HostsLive(client, { fetchSparklines: history.fetchSparklines });
    const stop = hosts.start();
    f.last().receive({ type: 'metrics', seq: 1, hostId: 'h1', samples: [cpuAt(T0 - 20_000, 10)] });
    f.last().receive({ type: 'metrics', seq: 2, hostId: 'h2', samples: [cpuAt(T0, 11)] });
    f.last().receive({ type: 'metrics', seq: 3, hostId: 'h3', samples: [cpuAt(T0 - 10_000, 12)] });

    f.last().serverClose(1006);
    vi.advanceTimersByTime(5_000);
    f.last().open();
    await settle();
    expect(history.calls).toEqual([{ hostIds: ['h1', 'h2', 'h3'], from: T0 - 20_000, to: T0 + 5_000 }]);
    history.answer(0, { h1: [cpuAt(T0 - 20_000, 10), cpuAt(T0 + 4_000, 20)], h3: [cpuAt(T0 + 1_000, 13)] });
    await settle();
    expect(hosts.series.get('h1')?.cpuTotal.rows.map((r) => r.values.total)).toEqual([10, 20]);
    expect(hosts.series.get('h3')?.cpuTotal.rows.map((r) => r.values.total)).toEqual([12, 13]);
    stop();
  });

  it('asks no more than the window after a long outage', async () => {
    const { f, client } = openClient();
    const history = controlledHistory();
    const hosts = new HostsLive(client, { fetchSparklines: history.fetchSparklines, windowMs: 60_000 });
    const stop = hosts.start();
    f.last().receive({ type: 'metrics', seq: 1, hostId: 'h1', samples: [cpuAt(T0, 10)] });
    f.last().serverClose(1006);
    vi.advanceTimersByTime(10 * 60_000);
    f.last().open();
    await settle();
    const [call] = history.calls;
    expect(call?.hostIds).toEqual(['h1']);
    expect((call?.to ?? 0) - (call?.from ?? 0)).toBe(60_000);
    stop();
  });

  it('stops filling when stopped: late answers are not drawn and nothing more is asked', async () => {
    const { client } = openClient();
    const history = controlledHistory();
    const hosts = new HostsLive(client, { fetchSparklines: history.fetchSparklines });
    const stop = hosts.start();
    hosts.fill([
      { id: 'h1', lastSeenAt: seenAt(T0) },
      { id: 'h2', lastSeenAt: seenAt(T0) },
    ]);
    const signal = history.fetchSparklines.mock.calls[0]?.[3]?.signal;
    stop();
    expect(signal?.aborted).toBe(true);
    history.answer(0, { h1: [cpuAt(T0, 10)] });
    await settle();
    expect(hosts.series.size).toBe(0);
    hosts.fill([{ id: 'h3', lastSeenAt: seenAt(T0) }]);
    expect(history.calls).toHaveLength(1);
  });

  it('asks GET /hosts/sparklines for the window by default and draws its points', async () => {
    const body = {
      from: seenAt(T0 - 300_000),
      to: seenAt(T0),
      hosts: [{ hostId: HOST_A, points: [{ ts: T0 - 1_000, cpu: 7, memUsed: 25, memTotal: 100, net: 300 }] }],
    };
    const fetch = vi.fn(async (_url: string, _init?: RequestInit) => new Response(JSON.stringify(body)));
    vi.stubGlobal('fetch', fetch);
    try {
      const { client } = openClient();
      const hosts = new HostsLive(client);
      const stop = hosts.start();
      hosts.fill([{ id: HOST_A, lastSeenAt: seenAt(T0) }]);
      await vi.waitFor(() => expect(hosts.series.get(HOST_A)?.points).toHaveLength(1));
      expect(fetch).toHaveBeenCalledTimes(1);
      expect(fetch.mock.calls[0]?.[0]).toBe(
        `/api/v1/hosts/sparklines?ids=${HOST_A}&from=2026-11-23T11%3A55%3A00.000Z&to=2026-11-23T12%3A00%3A00.000Z`,
      );
      const rolling = hosts.series.get(HOST_A);
      expect(rolling?.cpuTotal.rows.map((r) => r.values.total)).toEqual([7]);
      expect(rolling?.memoryPct.rows.map((r) => r.values.pct)).toEqual([25]);
      expect(rolling?.networkTotal.rows.map((r) => r.values.total)).toEqual([300]);
      stop();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
