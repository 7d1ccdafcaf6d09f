import path from 'node:path';
import { describe, expect, it } from 'vitest';
import mem from './fixtures/si-mem.json' with { type: 'json' };
import { memoryCollector, memoryFromMeminfo, memoryFromSi } from './memory.ts';

const fixtures = { proc: path.join(import.meta.dirname, 'fixtures', 'proc-mem'), sys: '/nonexistent' };

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

  it('reads /proc/meminfo as systeminformation does: cached is buffers + cached + slab', async () => {
    // fixtures/proc-mem/meminfo: recorded on a 24 GiB Debian VM, with a half-used 2 GiB swap written in.
    const result = await memoryCollector(fixtures, true).collect(0);
    const kib = 1024;
    expect(result?.memory).toEqual({
      total: 24_684_096 * kib,
      used: (24_684_096 - 22_610_840) * kib,
      available: 22_610_840 * kib,
      cached: (134_388 + 2_679_912 + 434_656) * kib,
      swapTotal: 2_097_148 * kib,
      swapUsed: (2_097_148 - 1_048_576) * kib,
    });
  });

  it('counts free + cached as available on kernels without MemAvailable', () => {
    const old = 'MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 200 kB\nSlab: 40 kB\n';
    expect(memoryFromMeminfo(old)).toMatchObject({ available: 350 * 1024, used: 650 * 1024, swapUsed: 0 });
  });

  it('falls back to systeminformation off Linux', async () => {
    const result = await memoryCollector(fixtures, false).collect(0);
    expect(result?.memory?.total).toBeGreaterThan(0);
  });
});
