import { ExportQuery, HistorySeriesQuery } from '@pulsewire/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { exportUrl, history } from './history.ts';

const fetchMock = vi.fn<typeof fetch>();
beforeEach(() => {
  fetchMock.mockReset();
  vi.stubGlobal('fetch', fetchMock);
});
afterEach(() => vi.unstubAllGlobals());

const HOST = '00000000-0000-4000-8000-000000000001';
const FROM = Date.UTC(2025, 0, 1);
const TO = Date.UTC(2025, 0, 31);
const answer = {
  hostId: HOST,
  from: new Date(FROM).toISOString(),
  to: new Date(TO).toISOString(),
  stepMs: 3_600_000,
  tier: '1h',
  timestamps: [FROM],
  retention: { oldest: new Date(FROM - 1e10).toISOString(), clipped: false },
  incomplete: false,
  series: [{ key: 'cpu.total', metric: 'cpu.total', labels: {}, unit: 'pct', min: [null], avg: [null], max: [null] }],
};

/** The query string a URL carries, as the API's own schema reads it. */
const queryOf = (url: string) => {
  const params = new URL(url, 'http://x').searchParams;
  const series = params.getAll('series');
  return { ...Object.fromEntries(params), series };
};

describe('history API client', () => {
  it('asks for series as the API reads them: repeated names, ISO range, whole maxPoints', async () => {
    fetchMock.mockResolvedValue(new Response(JSON.stringify(answer), { status: 200 }));
    const got = await history.series(HOST, {
      series: ['cpu.total', 'disk.used_pct{mount="/"}'],
      from: FROM,
      to: TO,
      maxPoints: 450.4,
    });
    expect(got.series[0]?.avg).toEqual([null]);
    const url = String(fetchMock.mock.calls[0]?.[0]);
    expect(url.startsWith(`/api/v1/hosts/${HOST}/series?`)).toBe(true);
    const parsed = HistorySeriesQuery.parse(queryOf(url));
    expect(parsed).toEqual({
      series: ['cpu.total', 'disk.used_pct{mount="/"}'],
      from: new Date(FROM).toISOString(),
      to: new Date(TO).toISOString(),
      maxPoints: 450,
    });
  });

  it('names the hosts of a compare request in one comma-separated parameter', async () => {
    const other = '00000000-0000-4000-8000-000000000002';
    const { hostId: _, series: __, ...rest } = answer;
    fetchMock.mockResolvedValue(new Response(JSON.stringify({ ...rest, hosts: [] }), { status: 200 }));
    await history.compare([HOST, other], { series: ['cpu.total'], from: FROM, to: TO });
    const params = new URL(String(fetchMock.mock.calls[0]?.[0]), 'http://x').searchParams;
    expect(params.get('hosts')).toBe(`${HOST},${other}`);
    expect(params.getAll('series')).toEqual(['cpu.total']);
    expect(params.has('maxPoints')).toBe(false);
  });

  it('builds export links the API accepts', () => {
    const url = exportUrl(HOST, {
      series: ['net.rx{iface="eth0"}', 'cpu.total'],
      from: FROM,
      to: TO,
      format: 'ndjson',
    });
    expect(url.startsWith(`/api/v1/hosts/${HOST}/series/export?`)).toBe(true);
    expect(ExportQuery.parse(queryOf(url))).toEqual({
      series: ['net.rx{iface="eth0"}', 'cpu.total'],
      from: new Date(FROM).toISOString(),
      to: new Date(TO).toISOString(),
      format: 'ndjson',
    });
  });
});
