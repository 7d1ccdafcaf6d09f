import type { LiveSample, Subscription } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import type { DataFrame } from './flow-control.ts';
import { candidatesFor, fanOutMetrics, metricsInterest } from './live-fanout.ts';

const H = 'host-1';
const samples: LiveSample[] = [
  { ts: 1, containers: [{ name: 'web', cpuPct: 1 } as never, { name: 'db', cpuPct: 2 } as never] } as LiveSample,
];
const socket = (id: string, subscriptions: Subscription[]) => ({ id, state: { subscriptions } });

describe('live fan-out', () => {
  it('reads a socket’s interest in a host’s metrics without allocating in the common case', () => {
    expect(metricsInterest([{ hosts: [H], streams: ['metrics'] }], H)).toBe('all');
    expect(metricsInterest([{ hosts: '*', streams: ['metrics'] }], H)).toBe('all');
    expect(metricsInterest([{ hosts: [H], streams: ['events'] }], H)).toBeNull();
    expect(metricsInterest([{ hosts: ['other'], streams: ['metrics'] }], H)).toBeNull();
    const filtered: Subscription = { hosts: [H], streams: ['metrics'], filters: { containers: ['web'] } };
    expect(metricsInterest([filtered], H)).toEqual([filtered]);
    // An unfiltered subscription wins over a filtered one.
    expect(metricsInterest([filtered, { hosts: '*', streams: ['metrics'] }], H)).toBe('all');
  });

  it('serialises the shared frame once for every unfiltered socket, and a filtered socket’s own', () => {
    const plain = Array.from({ length: 50 }, (_, i) => socket(`p${i}`, [{ hosts: [H], streams: ['metrics'] }]));
    const filtered = socket('f', [{ hosts: [H], streams: ['metrics'], filters: { containers: ['db'] } }]);
    const deaf = socket('d', [{ hosts: [H], streams: ['events'] }]);
    const sent: { id: string; frame: DataFrame }[] = [];
    const count = fanOutMetrics([...plain, filtered, deaf], H, samples, 42, (s, frame) =>
      sent.push({ id: s.id, frame }),
    );
    expect(count).toBe(51);
    const shared = sent.filter((s) => s.id !== 'f').map((s) => s.frame);
    expect(new Set(shared).size).toBe(1); // the same object: serialised once
    expect(JSON.parse(shared[0]?.text ?? '')).toEqual({ type: 'metrics', seq: 42, hostId: H, samples });
    const own = JSON.parse(sent.find((s) => s.id === 'f')?.frame.text ?? '');
    expect(own.seq).toBe(42);
    expect(own.samples[0].containers.map((c: { name: string }) => c.name)).toEqual(['db']);
  });

  it('lists each candidate once: those naming the host, then "*" holders not already listed', () => {
    const sockets = new Map(['a', 'b', 'c', 'w'].map((id) => [id, { id }]));
    const naming = new Set(['a', 'b', 'gone']);
    const wildcard = new Set(['b', 'w']);
    expect([...candidatesFor(sockets, naming, wildcard)].map((s) => s.id)).toEqual(['a', 'b', 'w']);
    expect([...candidatesFor(sockets, undefined, wildcard)].map((s) => s.id)).toEqual(['b', 'w']);
  });
});
