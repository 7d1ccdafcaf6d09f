import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchSparklines, sparklineSample } from './sparklines.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const id = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('sparklines', () => {
  it('reads a point as the live sample the rolling series draws, leaving out what the point lacks', () => {
    expect(sparklineSample({ ts: T0, cpu: 12, memUsed: 3, memTotal: 4, net: 9 })).toEqual({
      ts: T0,
      cpu: { total: 12, user: 12, system: 0, iowait: 0, steal: 0, perCore: [] },
      mem: { total: 4, used: 3, cached: 0, swapTotal: 0, swapUsed: 0 },
      net: [{ iface: 'all', rx: 9, tx: 0 }],
    });
    expect(sparklineSample({ ts: T0, memUsed: 3 })).toEqual({ ts: T0 });
  });

  it('asks at most 200 hosts a request and merges the answers; a failed request costs only its hosts', async () => {
    const urls: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        urls.push(url);
        const ids = new URL(url, 'http://x').searchParams.get('ids')?.split(',') ?? [];
        if (urls.length === 2) {
          return new Response(JSON.stringify({ error: { code: 'internal_error', message: 'boom' } }), { status: 500 });
        }
        const hosts = ids.map((hostId) => ({ hostId, points: [{ ts: T0, cpu: 1 }] }));
        return new Response(
          JSON.stringify({ from: new Date(T0).toISOString(), to: new Date(T0).toISOString(), hosts }),
        );
      }),
    );
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const ids = Array.from({ length: 450 }, (_, i) => id(i));
    const byHost = await fetchSparklines(ids, T0 - 300_000, T0);
    expect(urls).toHaveLength(3);
    expect(urls.map((u) => new URL(u, 'http://x').searchParams.get('ids')?.split(',').length)).toEqual([200, 200, 50]);
    expect(byHost.size).toBe(250);
    expect(byHost.has(id(0))).toBe(true);
    expect(byHost.has(id(200))).toBe(false);
    expect(byHost.get(id(449))?.[0]?.cpu?.total).toBe(1);
  });
});
