import { describe, expect, it } from 'vitest';
import { TtlCache } from './ttl-cache.ts';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('TtlCache', () => {
  it('answers a value until its TTL has passed, then forgets it', () => {
    const time = clock();
    const cache = new TtlCache<string, number>({ ttlMs: 5_000, maxEntries: 10, now: time.now });
    cache.set('a', 1);
    time.advance(4_999);
    expect(cache.get('a')).toBe(1);
    time.advance(1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('setting again starts a fresh TTL', () => {
    const time = clock();
    const cache = new TtlCache<string, number>({ ttlMs: 1_000, maxEntries: 10, now: time.now });
    cache.set('a', 1);
    time.advance(900);
    cache.set('a', 2);
    time.advance(900);
    expect(cache.get('a')).toBe(2);
  });

  it('delete forgets at once (a revocation in this isolate)', () => {
    const cache = new TtlCache<string, number>({ ttlMs: 60_000, maxEntries: 10 });
    cache.set('a', 1);
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
  });

  it('holds at most maxEntries, dropping the least recently set first', () => {
    const cache = new TtlCache<number, number>({ ttlMs: 60_000, maxEntries: 3 });
    for (let i = 0; i < 3; i++) cache.set(i, i);
    cache.set(0, 10); // re-set: now the newest
    cache.set(3, 3);
    expect(cache.size).toBe(3);
    expect(cache.get(1)).toBeUndefined();
    expect(cache.get(0)).toBe(10);
    expect(cache.get(2)).toBe(2);
    expect(cache.get(3)).toBe(3);
    for (let i = 100; i < 1_000; i++) cache.set(i, i);
    expect(cache.size).toBe(3);
  });

  it('deleteWhere drops every matching entry', () => {
    const cache = new TtlCache<string, { tenant: string }>({ ttlMs: 60_000, maxEntries: 10 });
    cache.set('a', { tenant: 't1' });
    cache.set('b', { tenant: 't2' });
    cache.set('c', { tenant: 't1' });
    cache.deleteWhere((_, value) => value.tenant === 't1');
    expect([cache.get('a'), cache.get('b')?.tenant, cache.get('c')]).toEqual([undefined, 't2', undefined]);
  });

  it('refuses a TTL or bound that is not positive', () => {
    expect(() => new TtlCache({ ttlMs: 0, maxEntries: 1 })).toThrow(RangeError);
    expect(() => new TtlCache({ ttlMs: 1, maxEntries: 0 })).toThrow(RangeError);
  });
});
