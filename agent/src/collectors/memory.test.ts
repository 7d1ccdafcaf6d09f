import { describe, expect, it } from 'vitest';
import mem from './fixtures/si-mem.json' with { type: 'json' };
import { memoryCollector, memoryFromSi } from './memory.ts';

describe('memory collector', () => {
  it('maps recorded systeminformation mem(): used is total minus available', () => {
    expect(memoryFromSi(mem)).toEqual({
      total: mem.total,
      used: mem.total - mem.available,
      available: mem.available,
      cached: mem.buffcache,
      swapTotal: 0,
      swapUsed: 0,
    });
    expect(mem.total - mem.available).not.toBe(mem.used);
  });

  it('reads through systeminformation', async () => {
    const result = await memoryCollector(async () => mem).collect(0);
    expect(result?.memory?.available).toBe(mem.available);
  });
});
