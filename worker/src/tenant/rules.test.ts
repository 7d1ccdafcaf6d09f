import { describe, expect, it } from 'vitest';
import { chargeMessage, FLOOD, freshFloodState } from './flood.ts';
import { nextTransitionAt, STATUS_MIN_PUSH_INTERVAL_MS, statusOf } from './presence.ts';
import { applySubscribe, samplesFor, watchesLive } from './subscriptions.ts';

describe('flood control', () => {
  it('lets a burst through, refuses after it with one warning per second, and closes a sustained flood', () => {
    const now = 1_700_000_000_000;
    let state = freshFloodState(now);
    const verdicts: string[] = [];
    for (let i = 0; i < FLOOD.BURST + FLOOD.MAX_DEBT + 1; i++) {
      const charged = chargeMessage(state, now);
      state = charged.state;
      verdicts.push(charged.verdict);
    }
    expect(verdicts.slice(0, FLOOD.BURST).every((v) => v === 'accept')).toBe(true);
    expect(verdicts[FLOOD.BURST]).toBe('refuse_and_warn');
    expect(verdicts[FLOOD.BURST + 1]).toBe('refuse');
    expect(verdicts.at(-1)).toBe('close');
  });

  it('never limits a client that stays at the sustained rate', () => {
    let state = freshFloodState(0);
    for (let i = 0; i < 2000; i++) {
      const charged = chargeMessage(state, i * (1000 / FLOOD.RATE_PER_SECOND));
      expect(charged.verdict).toBe('accept');
      state = charged.state;
    }
  });
});

describe('presence', () => {
  it('floors the push interval so a live host is not stale after a hiccup, and finds the next change', () => {
    const p = { lastSeen: 1_000_000, pushIntervalMs: 1000 };
    expect(statusOf(p, p.lastSeen + 4_000)).toBe('online');
    const staleAt = nextTransitionAt(p, p.lastSeen);
    expect(staleAt).toBe(p.lastSeen + STATUS_MIN_PUSH_INTERVAL_MS * 2.5 + 1);
    expect(statusOf(p, (staleAt as number) - 1)).toBe('online');
    expect(statusOf(p, staleAt as number)).toBe('stale');
    const offlineAt = nextTransitionAt(p, staleAt as number);
    expect(offlineAt).toBe(p.lastSeen + 120_001);
    expect(statusOf(p, offlineAt as number)).toBe('offline');
    expect(nextTransitionAt(p, offlineAt as number)).toBeNull();
  });
});

describe('subscriptions', () => {
  it('watches live only with explicit host ids in a metrics subscription', () => {
    const wildcard = applySubscribe([], { type: 'subscribe', hosts: '*', streams: ['metrics'] });
    expect(watchesLive(wildcard, 'h1')).toBe(false);
    const statusOnly = applySubscribe(wildcard, { type: 'subscribe', hosts: ['h1'], streams: ['host_status'] });
    expect(watchesLive(statusOnly, 'h1')).toBe(false);
    const explicit = applySubscribe(statusOnly, { type: 'subscribe', hosts: ['h1'], streams: ['metrics'] });
    expect(explicit).toHaveLength(2);
    expect(watchesLive(explicit, 'h1')).toBe(true);
  });

  it('matches containers by name or compose service, and an unfiltered subscription sees all', () => {
    const sample = {
      ts: 1,
      containers: [
        { name: 'a-1', service: 'api', state: 'running' },
        { name: 'cache', state: 'running' },
        { name: 'db', state: 'exited' },
      ],
    };
    const byService = { hosts: ['h'], streams: ['metrics' as const], filters: { containers: ['api', 'cache'] } };
    expect(samplesFor([byService], [sample])[0]?.containers?.map((c) => c.name)).toEqual(['a-1', 'cache']);
    expect(samplesFor([byService, { hosts: '*', streams: ['metrics'] }], [sample])[0]?.containers).toHaveLength(3);
  });
});
