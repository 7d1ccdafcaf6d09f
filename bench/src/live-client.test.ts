import type { ServerMessage } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { peekMetrics } from './live-client.ts';

/** A `metrics` frame as the tenant object serialises it (flow-control.ts `dataFrame`: JSON.stringify of the message). */
function frame(seq: number, samples: object[]): string {
  return JSON.stringify({ type: 'metrics', seq, hostId: 'h-1', samples });
}

describe('peekMetrics', () => {
  it('reads the seq and every sample timestamp that a full parse reads', () => {
    const samples = [
      { ts: 1764480000123, cpu: { total: 12.5, cores: [{ id: 0, pct: 3 }] }, disks: [{ mount: '/', used: 1 }] },
      {
        ts: 1764480001123,
        memory: { used_pct: 40 },
        net: [
          { iface: 'eth0', rx: 1 },
          { iface: 'eth1', rx: 2 },
        ],
      },
      { ts: 1764480002123 },
    ];
    const text = frame(1764480000000123, samples);
    const parsed = JSON.parse(text) as Extract<ServerMessage, { type: 'metrics' }>;
    expect(peekMetrics(text)).toEqual({ seq: parsed.seq, timestamps: parsed.samples.map((s) => s.ts) });
  });

  it('leaves every other frame to a full parse', () => {
    expect(peekMetrics(JSON.stringify({ type: 'subscribed', id: 'x', subscriptions: [] }))).toBeNull();
    expect(peekMetrics(JSON.stringify({ type: 'event', seq: 3, hostId: 'h', event: {} }))).toBeNull();
    // Another key order is not the object's layout: parsed whole rather than misread.
    expect(peekMetrics(JSON.stringify({ seq: 3, type: 'metrics', hostId: 'h', samples: [] }))).toBeNull();
  });

  it('reads no timestamp from a sample whose first key is not ts (the accounting then shows it missing)', () => {
    expect(peekMetrics(frame(7, [{ cpu: { total: 1 }, ts: 5 }]))).toEqual({ seq: 7, timestamps: [] });
  });
});
