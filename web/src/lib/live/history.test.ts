import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchSeries } from './history.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const HOST = '0b8e4a7e-5c1d-4f7a-9a36-2f0e4d6c8b11';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

function stubFetch(status: number, body: unknown) {
  const fetch = vi.fn(async (_url: string, _init?: RequestInit) => new Response(JSON.stringify(body), { status }));
  vi.stubGlobal('fetch', fetch);
  return fetch;
}

describe('fetchSeries', () => {
  it('asks for the range in ISO time and returns the points', async () => {
    const fetch = stubFetch(200, {
      hostId: HOST,
      from: new Date(T0 - 60_000).toISOString(),
      to: new Date(T0).toISOString(),
      points: [{ ts: T0 - 1000 }, { ts: T0 }],
    });
    const points = await fetchSeries(HOST, T0 - 60_000, T0);
    expect(points).toEqual([{ ts: T0 - 1000 }, { ts: T0 }]);
    expect(fetch.mock.calls[0]?.[0]).toBe(
      `/api/v1/hosts/${HOST}/samples?from=2026-11-23T11%3A59%3A00.000Z&to=2026-11-23T12%3A00%3A00.000Z`,
    );
  });

  it('returns nothing on 404 (no history endpoint) without a warning', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    stubFetch(404, { error: { code: 'not_found', message: 'Not found' } });
    expect(await fetchSeries(HOST, T0 - 60_000, T0)).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('returns nothing, with a warning, when the answer is not a series', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    stubFetch(200, {
      hostId: HOST,
      from: new Date(T0).toISOString(),
      to: new Date(T0).toISOString(),
      points: [{ nope: true }],
    });
    expect(await fetchSeries(HOST, T0 - 60_000, T0)).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
