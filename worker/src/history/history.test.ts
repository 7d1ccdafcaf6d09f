import { HistorySeries, type Sample } from '@pulsewire/protocol';
import { and, eq, lt, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { ownerWithIngestKey, TestAgent } from '../../test/agent.ts';
import type { TestClient } from '../../test/client.ts';
import { isolatedEnv, withDatabase } from '../../test/support.ts';
import { history1h, historyRaw } from '../db/schema.ts';
import type { Env } from '../env.ts';
import { decodeChunk } from './chunk-codec.ts';
import { LEGACY_HOUR_CHUNKS_JOB } from './hour-tier-months.ts';
import { runHistoryJobs } from './jobs.ts';
import { CHUNK_TABLES, ensurePartitions, LANDING_TABLES, listPartitions, partitionName } from './partitions.ts';
import { QUARTER_HOUR_BACKFILL_JOB } from './quarter-hour-backfill.ts';
import { rawObservations, readWatermarks } from './query.ts';
import { DAY_CHUNK_HOURS } from './raw-chunks.ts';
import { applyRetention } from './retention.ts';
import { writeTierChunk } from './rollup-job.ts';

/**
 * The history pipeline through the real Worker and database: samples pushed by a signed agent, read back from
 * the landing rows, compacted and rolled up by the scheduled jobs, read back again from the chunks, and
 * compared with a direct aggregation of what was pushed.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A noisy host: cpu varies per sample; some samples carry no memory section (a gap in that series). */
function noisySample(ts: number, i: number): Sample {
  const cpu = Math.round((45 + 40 * Math.sin(i / 7) + ((i * 7919) % 13)) * 1000) / 1000;
  const sample = {
    ts,
    cpu: { total: cpu, user: cpu / 2, system: cpu / 4, iowait: 1.5, steal: 0, perCore: [cpu, cpu] },
    ...(i % 5 === 3
      ? {}
      : {
          memory: {
            total: 24e9,
            used: 6e9 + i * 4096,
            available: 18e9 - i * 4096,
            cached: 2e9,
            swapTotal: 0,
            swapUsed: 0,
          },
        }),
  };
  return sample as Sample;
}

/** Direct aggregation of the pushed values into step buckets: the reference the tiers must match. */
function directBuckets(points: { ts: number; value: number }[], from: number, to: number, step: number) {
  const first = Math.floor(from / step) * step;
  const n = Math.ceil((to - first) / step);
  const out = Array.from({ length: n }, () => ({ min: Infinity, max: -Infinity, sum: 0, count: 0 }));
  for (const p of points) {
    const i = Math.floor((p.ts - first) / step);
    if (i < 0 || i >= n) continue;
    const b = out[i] as (typeof out)[number];
    b.min = Math.min(b.min, p.value);
    b.max = Math.max(b.max, p.value);
    b.sum += p.value;
    b.count++;
  }
  return out.map((b) => (b.count === 0 ? null : { min: b.min, avg: b.sum / b.count, max: b.max }));
}

/** A `cpu.total` chart of the agent's host over [from, to) at `step`, through the API. */
async function cpuChart(owner: TestClient, hostId: string, from: number, to: number, step: string) {
  const res = await owner.get(
    `/api/v1/hosts/${hostId}/series?series=cpu.total&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&step=${step}`,
  );
  expect(res.status, await res.clone().text()).toBe(200);
  return HistorySeries.parse(await res.json());
}

/** Every bucket of a `cpu.total` answer within `tolerance` of the direct aggregation of `points`; gaps null. */
function expectCpuDirect(answer: HistorySeries, points: { ts: number; value: number }[], tolerance: number) {
  const expected = directBuckets(points, Date.parse(answer.from), Date.parse(answer.to), answer.stepMs);
  const series = answer.series.find((s) => s.key === 'cpu.total');
  expect(answer.timestamps).toHaveLength(expected.length);
  expected.forEach((bucket, i) => {
    if (bucket === null) {
      expect(series?.avg[i], `bucket ${i} is a gap`).toBeNull();
      return;
    }
    for (const stat of ['min', 'avg', 'max'] as const) {
      expect(Math.abs((series?.[stat][i] as number) - bucket[stat]), `${stat} of bucket ${i}`).toBeLessThanOrEqual(
        tolerance,
      );
    }
  });
}

describe('history tiers', () => {
  let env: Env;
  let owner: TestClient;
  let agent: TestAgent;
  // Three closed hours well in the past, so compaction may close them now: 10 s samples, a 1 s "live" stretch,
  // and a 20-minute gap (the agent was down).
  const start = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR;
  const pushed: Sample[] = [];
  const cpuPoints: { ts: number; value: number }[] = [];

  const get = async (path: string) => {
    const res = await owner.get(path);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const chart = async (query: string) => {
    const res = await owner.get(`/api/v1/hosts/${agent.hostId}/series?${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return HistorySeries.parse(await res.json());
  };

  beforeAll(async () => {
    env = await isolatedEnv();
    const setup = await ownerWithIngestKey(env);
    owner = setup.owner;
    agent = await TestAgent.enroll(env, setup.ingestKey, crypto.randomUUID(), 'hist-1');
    let i = 0;
    for (let ts = start; ts < start + 3 * HOUR; ) {
      const inGap = ts >= start + HOUR + 10 * 60_000 && ts < start + HOUR + 30 * 60_000;
      const live = ts >= start + 2 * HOUR && ts < start + 2 * HOUR + 5 * 60_000;
      if (!inGap) {
        const s = noisySample(ts, i++);
        pushed.push(s);
        cpuPoints.push({ ts, value: s.cpu?.total as number });
      }
      ts += live ? 1_000 : 10_000;
    }
    for (let k = 0; k < pushed.length; k += 300) {
      const res = await agent.push(agent.batch(pushed.slice(k, k + 300)));
      expect(res.status, await res.clone().text()).toBe(200);
    }
    // Custom metrics: a counter (increments every 10 s) becomes a rate; a histogram keeps its summary.
    const metrics = Array.from({ length: 30 }, (_, k) => [
      { name: 'jobs_done', kind: 'counter' as const, ts: start + k * 10_000, value: 20, labels: { queue: 'mail' } },
      {
        name: 'latency',
        kind: 'histogram' as const,
        ts: start + k * 10_000,
        hist: { count: 4, sum: 40, min: 2, max: 20, p50: 9, p90: 18, p99: 20 },
      },
    ]).flat();
    expect((await agent.push(agent.batch([], { metrics }))).status).toBe(200);
  });

  const range = () => `from=${new Date(start).toISOString()}&to=${new Date(start + 3 * HOUR).toISOString()}`;

  function expectMatches(
    answer: HistorySeries,
    key: string,
    points: { ts: number; value: number }[],
    tolerance: number,
  ) {
    const expected = directBuckets(points, Date.parse(answer.from), Date.parse(answer.to), answer.stepMs);
    const series = answer.series.find((s) => s.key === key);
    expect(series, `${key} in ${answer.series.map((s) => s.key)}`).toBeDefined();
    expect(answer.timestamps).toHaveLength(expected.length);
    expected.forEach((bucket, i) => {
      if (bucket === null) {
        expect(series?.avg[i], `bucket ${i} is a gap`).toBeNull();
        return;
      }
      expect(Math.abs((series?.min[i] as number) - bucket.min)).toBeLessThanOrEqual(tolerance);
      expect(Math.abs((series?.avg[i] as number) - bucket.avg)).toBeLessThanOrEqual(tolerance);
      expect(Math.abs((series?.max[i] as number) - bucket.max)).toBeLessThanOrEqual(tolerance);
    });
  }

  it('answers from the landing rows before any compaction, equal to a direct aggregation', async () => {
    const answer = await chart(`series=cpu.total&${range()}&step=1m`);
    expect(answer.tier).toBe('1m');
    expect(answer.timestamps[0]).toBe(start);
    expectMatches(answer, 'cpu.total', cpuPoints, 1e-9);
    // The gap is null, never zero.
    const gapBucket = (start + HOUR + 15 * 60_000 - start) / 60_000;
    expect(answer.series[0]?.avg[gapBucket]).toBeNull();
  });

  it('compacts closed hours into chunks, and answers the same (within the stated precision) from them', async () => {
    const report = await withDatabase(env, (db) => runHistoryJobs(db));
    expect(report.skipped).toBe(false);
    expect(report.compactedUntil).toBeGreaterThanOrEqual(start + 3 * HOUR);
    const chunks = await withDatabase(env, (db) =>
      db.execute<{ n: string }>(sql`SELECT count(*) AS n FROM history_raw WHERE host_id = ${agent.hostId}`),
    );
    expect(Number(chunks.rows[0]?.n)).toBeGreaterThanOrEqual(3);
    // Raw values are kept to their quantum (0.01 for percentages): within half of it. Closed hours are rolled up
    // as they close, so 1-minute steps and above read the 1-minute tier, whose averages are quantised again
    // (within one quantum).
    for (const [step, tolerance] of [
      ['15s', 0.0051],
      ['1m', 0.0101],
      ['15m', 0.0101],
    ] as const) {
      const answer = await chart(`series=cpu.total&${range()}&step=${step}`);
      expectMatches(answer, 'cpu.total', cpuPoints, tolerance);
    }
    // Raw points at their own resolution: the 1 s live stretch is kept.
    const live = await chart(
      `series=cpu.total&from=${new Date(start + 2 * HOUR).toISOString()}&to=${new Date(start + 2 * HOUR + 60_000).toISOString()}&step=1s`,
    );
    expect(live.tier).toBe('raw');
    expect(live.series[0]?.avg.filter((v) => v !== null)).toHaveLength(60);
  });

  it('is idempotent: a second run changes no chunk', async () => {
    const snapshot = () =>
      withDatabase(env, (db) =>
        db.execute<{ family: string; p: string }>(
          sql`SELECT family, period_start::text || md5(payload) AS p FROM history_raw WHERE host_id = ${agent.hostId} ORDER BY 1, 2`,
        ),
      );
    const before = (await snapshot()).rows;
    const report = await withDatabase(env, (db) => runHistoryJobs(db));
    expect(report.hoursCompacted).toBe(0);
    expect((await snapshot()).rows).toEqual(before);
  });

  it('keeps custom counters as rates and histogram summaries as series', async () => {
    const answer = await chart(
      `series=${encodeURIComponent('custom.jobs_done')}&series=custom.latency.p99&${range()}&step=15m`,
    );
    const rate = answer.series.find((s) => s.key === 'custom.jobs_done{queue="mail"}');
    expect(rate?.avg[0]).toBeCloseTo(2, 6); // 20 per 10 s
    expect(answer.series.find((s) => s.key === 'custom.latency.p99')?.max[0]).toBe(20);
  });

  it('merges data that arrives for an hour already compacted (a replayed spool)', async () => {
    const lateTs = start + HOUR + 15 * 60_000; // inside the gap
    const res = await agent.push(agent.batch([noisySample(lateTs, 1)]));
    expect(res.status).toBe(200);
    await withDatabase(env, (db) => runHistoryJobs(db));
    const answer = await chart(`series=cpu.total&${range()}&step=1m`);
    const i = (lateTs - start) / 60_000;
    expect(
      Math.abs((answer.series[0]?.avg[i] as number) - (noisySample(lateTs, 1).cpu?.total as number)),
    ).toBeLessThanOrEqual(0.0051);
  });

  it('rolls closed days up into 1-minute and 1-hour chunks that match a direct aggregation', async () => {
    const dayEnd = Math.floor(start / DAY) * DAY + DAY;
    // The jobs "later": the whole day compacted and rolled up (budget large enough for the catch-up).
    const report = await withDatabase(env, (db) =>
      runHistoryJobs(db, { now: dayEnd + 3 * HOUR + 20 * 60_000, budget: 10_000 }),
    );
    expect(report.rolledUpUntil).toBeGreaterThanOrEqual(dayEnd);
    const rolled = await withDatabase(env, (db) =>
      db.execute<{ n: string }>(sql`SELECT count(*) AS n FROM history_1m WHERE host_id = ${agent.hostId}`),
    );
    expect(Number(rolled.rows[0]?.n)).toBeGreaterThan(0);
    const withLate = [...cpuPoints, { ts: start + HOUR + 15 * 60_000, value: noisySample(0, 1).cpu?.total as number }];
    // A rollup's min and max are raw values (half a quantum); its average is quantised again (one quantum).
    expectMatches(await chart(`series=cpu.total&${range()}&step=1m`), 'cpu.total', withLate, 0.0101);
    const hourly = await chart(`series=cpu.total&${range()}&step=1h`);
    expect(hourly.tier).toBe('1h');
    expectMatches(hourly, 'cpu.total', withLate, 0.0101);
    // Whole quarter hours read the 15-minute tier: the closed day's chunks, the open day's minutes.
    for (const step of ['15m', '45m']) {
      const quarters = await chart(`series=cpu.total&${range()}&step=${step}`);
      expect(quarters.tier).toBe('15m');
      expectMatches(quarters, 'cpu.total', withLate, 0.0101);
    }
  });

  it('refuses bad ranges and series with typed errors, never a 500', async () => {
    const base = `/api/v1/hosts/${agent.hostId}/series`;
    const cases: [string, number, string][] = [
      [`${base}?series=cpu.total&from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z`, 422, 'invalid_range'],
      [`${base}?series=nope.metric`, 422, 'unknown_series'],
      [`${base}?${Array.from({ length: 21 }, (_, k) => `series=custom.m${k}`).join('&')}`, 422, 'too_many_series'],
      [
        `${base}?series=cpu.total&from=${new Date(Date.now() - 40 * DAY).toISOString()}&step=10s`,
        422,
        'step_below_resolution',
      ],
      [`${base}?series=cpu.total&step=1s&from=${new Date(Date.now() - DAY).toISOString()}`, 422, 'too_many_points'],
      [`${base}?series=cpu.total&from=1900-01-01T00:00:00Z&to=1900-01-02T00:00:00Z`, 422, 'beyond_retention'],
      [`${base}?series=cpu.total&from=2026-02-30T00:00:00Z`, 422, 'validation_failed'],
      [`${base}?series=cpu.total&from=99999-01-01T00:00:00Z`, 422, ''],
    ];
    // Hostile values: NUL and a lone surrogate in a label or an event subject, a year far ahead.
    const events = `/api/v1/hosts/${agent.hostId}/events`;
    cases.push(
      [`${events}?subject=job%00x`, 422, 'validation_failed'],
      // A surrogate's UTF-8 bytes decode to U+FFFD: a subject like any other (no event has it).
      [`${events}?subject=%ED%A0%80`, 200, ''],
      [`${base}?series=cpu.total&from=9999-12-30T00:00:00Z&to=9999-12-31T00:00:00Z`, 200, ''],
    );
    // A NUL, an unbalanced quote, and a lone surrogate as the bytes a client would send (not encodable by JS).
    for (const label of [encodeURIComponent('/\u0000'), encodeURIComponent('"unbalanced'), '%ED%A0%80']) {
      const res = await owner.get(`${base}?series=disk.used_pct%7Bmount%3D%22${label}%22%7D&${range()}`);
      expect([200, 422], label).toContain(res.status);
    }
    for (const [path, status, code] of cases) {
      const { status: got, body } = await get(path);
      expect(got, path).toBe(status);
      if (code) expect((body.error as { code: string }).code, path).toBe(code);
    }
  });

  it('says so when a range starts before what is kept, and answers what exists', async () => {
    const answer = await chart(`series=cpu.total&from=2000-01-01T00:00:00Z&maxPoints=500`);
    expect(answer.retention.clipped).toBe(true);
    expect(answer.tier).toBe('1h');
    expect(answer.timestamps.length).toBeLessThanOrEqual(500);
  });

  it('exports CSV and NDJSON as attachments', async () => {
    const csv = await owner.get(`/api/v1/hosts/${agent.hostId}/series/export?series=cpu.total&${range()}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="pulsewire-hist-1-.*\.csv"$/);
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toBe('time,series,value,min,max,count');
    expect(lines).toHaveLength(1 + cpuPoints.length + 1);
    expect(lines[1]).toBe(`${new Date(start).toISOString()},"cpu.total",${cpuPoints[0]?.value},,,`);
    // A range reaching far into the future stops at now rather than walking empty days.
    const far = await owner.get(
      `/api/v1/hosts/${agent.hostId}/series/export?series=cpu.total&from=${new Date(start).toISOString()}&to=9999-12-31T00:00:00Z`,
    );
    expect(far.status).toBe(200);
    expect((await far.text()).trim().split('\n').length).toBeGreaterThan(cpuPoints.length);
    const ndjson = await owner.get(
      `/api/v1/hosts/${agent.hostId}/series/export?series=cpu.total&${range()}&format=ndjson`,
    );
    const first = JSON.parse((await ndjson.text()).split('\n')[0] as string);
    expect(first).toEqual({ time: new Date(start).toISOString(), series: 'cpu.total', value: cpuPoints[0]?.value });
  });

  it('streams an export across days without data (each empty day skipped, not a stalled stream)', async () => {
    const narrow = await owner.get(`/api/v1/hosts/${agent.hostId}/series/export?series=cpu.total&${range()}`);
    const wide = await owner.get(
      `/api/v1/hosts/${agent.hostId}/series/export?series=cpu.total&from=${new Date(start - 3 * DAY).toISOString()}&to=${new Date(start + 3 * HOUR).toISOString()}`,
    );
    expect(wide.status).toBe(200);
    const lines = (await wide.text()).trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines).toEqual((await narrow.text()).trim().split('\n'));
  });

  it('compares one metric over several hosts of the organisation only', async () => {
    const answer = await get(
      `/api/v1/series/compare?series=cpu.total&hosts=${agent.hostId},${crypto.randomUUID()}&${range()}&step=15m`,
    );
    expect(answer.status).toBe(200);
    expect((answer.body.hosts as { hostId: string }[]).map((h) => h.hostId)).toEqual([agent.hostId]);
  });

  it('drops whole partitions past retention, and landing hours only once compacted', async () => {
    await withDatabase(env, async (db) => {
      const old = Date.UTC(2020, 0, 1);
      await ensurePartitions(db, CHUNK_TABLES.raw, old, old + DAY);
      await ensurePartitions(db, CHUNK_TABLES['15m'], old, old + DAY);
      // Kept as long as the 1-minute tier: last month's partition stays.
      const lastMonth = Date.now() - 31 * DAY;
      await ensurePartitions(db, CHUNK_TABLES['15m'], lastMonth, lastMonth + DAY);
      await ensurePartitions(db, LANDING_TABLES[0] as (typeof LANDING_TABLES)[number], old, old + HOUR);
      const future = Math.floor(Date.now() / HOUR) * HOUR + 2 * HOUR;
      await ensurePartitions(db, LANDING_TABLES[0] as (typeof LANDING_TABLES)[number], future, future + HOUR);
      const report = await applyRetention(db, Date.now(), Date.now() - 4 * HOUR);
      expect(report.partitionsDropped).toEqual(
        expect.arrayContaining(['history_raw_p20200101', 'history_15m_p202001', 'host_samples_p2020010100']),
      );
      const quarterHours = (await listPartitions(db, CHUNK_TABLES['15m'])).map((p) => p.start);
      expect(quarterHours).not.toContain(Date.UTC(2020, 0, 1));
      expect(quarterHours).toContain(
        Date.UTC(new Date(lastMonth).getUTCFullYear(), new Date(lastMonth).getUTCMonth(), 1),
      );
      const names = (await listPartitions(db, LANDING_TABLES[0] as (typeof LANDING_TABLES)[number])).map((p) => p.name);
      expect(names).not.toContain('host_samples_p2020010100');
      expect(names.length).toBeGreaterThan(0);
    });
  });
});

describe('history jobs catch up after downtime', () => {
  it('does a bounded amount of work per run and resumes where it stopped, to the same chunks', async () => {
    const env = await isolatedEnv();
    const setup = await ownerWithIngestKey(env);
    const agents = [
      await TestAgent.enroll(env, setup.ingestKey, crypto.randomUUID(), 'late-1'),
      await TestAgent.enroll(env, setup.ingestKey, crypto.randomUUID(), 'late-2'),
    ];
    // Three closed hours of two hosts, as if the cron had been down since.
    const begin = Math.floor(Date.now() / HOUR) * HOUR - 4 * HOUR;
    for (const agent of agents) {
      const samples = Array.from({ length: 3 * 60 }, (_, i) => noisySample(begin + i * 60_000, i));
      for (let k = 0; k < samples.length; k += 300) {
        expect((await agent.push(agent.batch(samples.slice(k, k + 300)))).status).toBe(200);
      }
    }
    const reports = [];
    for (let run = 0; run < 20; run++) {
      const report = await withDatabase(env, (db) => runHistoryJobs(db, { budget: 1 }));
      reports.push(report);
      if (!report.behind) break;
    }
    // One host-hour a run: several runs, each further on, the last one through.
    expect(reports.length).toBeGreaterThanOrEqual(6);
    expect(reports.slice(0, -1).every((r) => r.behind)).toBe(true);
    expect(reports.at(-1)?.compactedUntil).toBeGreaterThanOrEqual(begin + 3 * HOUR);
    // Every host's three hours in chunks (an hour's each, or their day's once a day closed and was folded).
    const chunks = await withDatabase(env, (db) =>
      db.select({ hostId: historyRaw.hostId, payload: historyRaw.payload }).from(historyRaw),
    );
    const hours = new Map<string, Set<number>>();
    for (const row of chunks) {
      const set = hours.get(row.hostId) ?? new Set<number>();
      for (const ts of (await decodeChunk(row.payload)).timestamps) set.add(Math.floor(ts / HOUR) * HOUR);
      hours.set(row.hostId, set);
    }
    expect([...hours.values()].map((set) => set.size)).toEqual([3, 3]);
  });
});

describe('the open day is rolled up hour by hour', () => {
  // A day two days back, so every hour of it is in the past; the jobs run "then" (their clock passed in).
  const day = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
  const first = day + HOUR;
  let env: Env;
  let owner: TestClient;
  let agent: TestAgent;
  const cpuPoints: { ts: number; value: number }[] = [];
  // A hole in the first hour for a late replay to fill.
  const lateTs = first + 20 * 60_000;

  const chart = (from: number, to: number, step: string) => cpuChart(owner, agent.hostId, from, to, step);
  // A rollup's min and max are raw values (half a quantum); its average is quantised again (one quantum).
  const expectDirect = (answer: HistorySeries, points: { ts: number; value: number }[]) =>
    expectCpuDirect(answer, points, 0.0101);
  const rows = (table: string) =>
    withDatabase(env, async (db) => {
      const result = await db.execute<{ period: string; family: string; p: string }>(
        sql`SELECT period_start::text AS period, family, md5(payload) AS p FROM ${sql.raw(table)}
            WHERE host_id = ${agent.hostId} ORDER BY 1, 2`,
      );
      return result.rows;
    });

  beforeAll(async () => {
    env = await isolatedEnv();
    const setup = await ownerWithIngestKey(env);
    owner = setup.owner;
    agent = await TestAgent.enroll(env, setup.ingestKey, crypto.randomUUID(), 'open-day');
    const samples: Sample[] = [];
    let i = 0;
    for (let ts = first; ts < first + 3 * HOUR; ts += 10_000) {
      if (ts >= lateTs && ts < lateTs + 5 * 60_000) continue;
      const s = noisySample(ts, i++);
      samples.push(s);
      cpuPoints.push({ ts, value: s.cpu?.total as number });
    }
    for (let k = 0; k < samples.length; k += 300) {
      expect((await agent.push(agent.batch(samples.slice(k, k + 300)))).status).toBe(200);
    }
  });

  it('rolls each closed hour up into a 1-minute chunk, and charts of the open day read them, not raw hours', async () => {
    // Two hours closed (past the grace), the third still open.
    const report = await withDatabase(env, (db) =>
      runHistoryJobs(db, { now: first + 2 * HOUR + 20 * 60_000, budget: 10_000 }),
    );
    expect(report.compactedUntil).toBe(first + 2 * HOUR);
    expect(report.rolledUpUntil).toBe(first + 2 * HOUR);
    const minute = await rows('history_1m');
    expect(new Set(minute.map((r) => r.period.slice(0, 10)))).toEqual(
      new Set([new Date(day).toISOString().slice(0, 10)]),
    );
    expect(minute.some((r) => r.family === 'cpu')).toBe(true);
    // No whole day yet: nothing in the 1-hour tier.
    expect(await rows('history_1h')).toEqual([]);
    const closed = cpuPoints.filter((p) => p.ts < first + 2 * HOUR);
    expectDirect(await chart(first, first + 2 * HOUR, '1m'), closed);
    expectDirect(await chart(first, first + 2 * HOUR, '1h'), closed);
    // The next hour closes: its own chunks join the earlier hours'.
    await withDatabase(env, (db) => runHistoryJobs(db, { now: first + 3 * HOUR + 20 * 60_000, budget: 10_000 }));
    expectDirect(await chart(first, first + 3 * HOUR, '1m'), cpuPoints);
    expectDirect(await chart(day, day + DAY, '1h'), cpuPoints);
  });

  it('is idempotent, and merges a late replay into its hour of the open day', async () => {
    const before = await rows('history_1m');
    const again = await withDatabase(env, (db) =>
      runHistoryJobs(db, { now: first + 3 * HOUR + 20 * 60_000, budget: 10_000 }),
    );
    expect(again.hoursRolledUp).toBe(0);
    expect(await rows('history_1m')).toEqual(before);

    const late = noisySample(lateTs, 3);
    expect((await agent.push(agent.batch([late]))).status).toBe(200);
    const report = await withDatabase(env, (db) =>
      runHistoryJobs(db, { now: first + 3 * HOUR + 25 * 60_000, budget: 10_000 }),
    );
    expect(report.lateMerged).toBe(1);
    cpuPoints.push({ ts: lateTs, value: late.cpu?.total as number });
    cpuPoints.sort((a, b) => a.ts - b.ts);
    const answer = await chart(first, first + 3 * HOUR, '1m');
    expect(answer.series[0]?.avg[20]).not.toBeNull();
    expectDirect(answer, cpuPoints);
  });

  it('folds six closed hours into one chunk, and rolls a late replay into that block again', async () => {
    await withDatabase(env, (db) => runHistoryJobs(db, { now: day + 6 * HOUR + 20 * 60_000, budget: 10_000 }));
    const startOfDay = `${new Date(day).toISOString().slice(0, 10)} 00:00:00`;
    const minute = await rows('history_1m');
    // Hours 1–3 held data: their chunks are now the block's (00:00–06:00), one per family.
    expect(minute.every((r) => r.period.startsWith(startOfDay))).toBe(true);
    expect(new Set(minute.map((r) => r.family)).size).toBe(minute.length);
    expectDirect(await chart(first, first + 3 * HOUR, '1m'), cpuPoints);

    const late = noisySample(lateTs + 60_000, 4);
    expect((await agent.push(agent.batch([late]))).status).toBe(200);
    const report = await withDatabase(env, (db) =>
      runHistoryJobs(db, { now: day + 6 * HOUR + 25 * 60_000, budget: 10_000 }),
    );
    expect(report.lateMerged).toBe(1);
    cpuPoints.push({ ts: lateTs + 60_000, value: late.cpu?.total as number });
    cpuPoints.sort((a, b) => a.ts - b.ts);
    expect((await rows('history_1m')).length).toBe(minute.length);
    expectDirect(await chart(first, first + 3 * HOUR, '1m'), cpuPoints);
    expectDirect(await chart(day, day + DAY, '1h'), cpuPoints);
  });

  it('closes the day from its raw hours into the 1-minute and 15-minute days and the month’s 1-hour chunk, read without raw', async () => {
    const report = await withDatabase(env, (db) =>
      runHistoryJobs(db, { now: day + DAY + 20 * 60_000, budget: 10_000 }),
    );
    expect(report.rolledUpUntil).toBe(day + DAY);
    const month = new Date(day);
    month.setUTCDate(1);
    const hourly = await rows('history_1h');
    expect(hourly.length).toBeGreaterThan(0);
    expect(hourly.every((r) => r.period.startsWith(month.toISOString().slice(0, 10)))).toBe(true);
    // The day's chunk per family, in place of the hours' chunks; and the day's 15-minute chunk per family.
    const startOfDay = `${new Date(day).toISOString().slice(0, 10)} 00:00:00`;
    const minute = await rows('history_1m');
    expect(minute.every((r) => r.period.startsWith(startOfDay))).toBe(true);
    expect(new Set(minute.map((r) => r.family)).size).toBe(minute.length);
    const quarters = await rows('history_15m');
    expect(quarters.map((r) => [r.period.slice(0, 19), r.family])).toEqual(minute.map((r) => [startOfDay, r.family]));
    const snapshot = [minute, quarters, hourly];
    await withDatabase(env, (db) => runHistoryJobs(db, { now: day + DAY + 25 * 60_000, budget: 10_000 }));
    expect([await rows('history_1m'), await rows('history_15m'), await rows('history_1h')]).toEqual(snapshot);
    expectDirect(await chart(day, day + DAY, '15m'), cpuPoints);

    // A late replay into the closed day redoes the day in every tier.
    const late = noisySample(lateTs + 2 * 60_000, 5);
    expect((await agent.push(agent.batch([late]))).status).toBe(200);
    const replayed = await withDatabase(env, (db) =>
      runHistoryJobs(db, { now: day + DAY + 30 * 60_000, budget: 10_000 }),
    );
    expect(replayed.lateMerged).toBe(1);
    cpuPoints.push({ ts: lateTs + 2 * 60_000, value: late.cpu?.total as number });
    cpuPoints.sort((a, b) => a.ts - b.ts);
    expect((await rows('history_15m')).map((r) => r.p)).not.toEqual(quarters.map((r) => r.p));

    // The tiers alone answer: with the raw chunks gone, the charts are unchanged.
    await withDatabase(env, (db) => db.execute(sql`DELETE FROM history_raw WHERE host_id = ${agent.hostId}`));
    expectDirect(await chart(first, first + 3 * HOUR, '1m'), cpuPoints);
    const quarterChart = await chart(day, day + DAY, '15m');
    expect(quarterChart.tier).toBe('15m');
    expectDirect(quarterChart, cpuPoints);
    expectDirect(await chart(day, day + DAY, '1h'), cpuPoints);
  });

  it('builds the 15-minute chunks of days rolled up before migration 0008 from their 1-minute chunks', async () => {
    await withDatabase(env, async (db) => {
      await db.execute(sql`DELETE FROM history_15m WHERE host_id = ${agent.hostId}`);
      await db.execute(sql`INSERT INTO history_jobs (name) VALUES (${QUARTER_HOUR_BACKFILL_JOB})`);
      const report = await runHistoryJobs(db, { now: day + DAY + 35 * 60_000, budget: 10_000 });
      expect(report.quarterHourDaysBackfilled).toBe((await rows('history_1m')).length);
      const marker = await db.execute(sql`SELECT 1 FROM history_jobs WHERE name = ${QUARTER_HOUR_BACKFILL_JOB}`);
      expect(marker.rows).toEqual([]);
    });
    expect((await rows('history_15m')).length).toBe((await rows('history_1m')).length);
    expectDirect(await chart(day, day + DAY, '15m'), cpuPoints);
  });

  it('merges the 1-hour tier’s day chunks written before migration 0006 into month chunks', async () => {
    await withDatabase(env, async (db) => {
      const month = Date.UTC(2026, 0, 1);
      await ensurePartitions(db, CHUNK_TABLES['1h'], month, month + DAY);
      // Two legacy day chunks (the 1st and the 2nd of the month), as rollUpHostDay wrote them.
      const dayChunk = (d: number) => ({
        timestamps: [d, d + HOUR],
        columns: [
          { name: 'cpu.total|min', quantum: 0.01, values: Float64Array.from([1, 2]) },
          { name: 'cpu.total|avg', quantum: 0.01, values: Float64Array.from([1.5, 2.5]) },
          { name: 'cpu.total|max', quantum: 0.01, values: Float64Array.from([2, 3]) },
          { name: 'cpu.total|count', quantum: 1, values: Float64Array.from([360, 360]) },
        ],
      });
      const host = { tenantId: agent.tenantId, hostId: agent.hostId, family: 'cpu' };
      await writeTierChunk(db, history1h, { ...host, period: month }, dayChunk(month));
      await writeTierChunk(db, history1h, { ...host, period: month + DAY }, dayChunk(month + DAY));
      await db.execute(sql`INSERT INTO history_jobs (name) VALUES (${LEGACY_HOUR_CHUNKS_JOB})`);
      await runHistoryJobs(db, { now: day + DAY + 30 * 60_000, budget: 10_000 });
      const merged = await db
        .select({ period: history1h.periodStart, payload: history1h.payload })
        .from(history1h)
        .where(and(eq(history1h.hostId, agent.hostId), lt(history1h.periodStart, new Date(month + 31 * DAY))));
      expect(merged.map((r) => r.period.getTime())).toEqual([month]);
      const chunk = await decodeChunk(merged[0]?.payload as Uint8Array);
      expect(chunk.timestamps).toEqual([month, month + HOUR, month + DAY, month + DAY + HOUR]);
      expect([...(chunk.columns.find((c) => c.name === 'cpu.total|avg')?.values ?? [])]).toEqual([1.5, 2.5, 1.5, 2.5]);
      const marker = await db.execute(sql`SELECT 1 FROM history_jobs WHERE name = ${LEGACY_HOUR_CHUNKS_JOB}`);
      expect(marker.rows).toEqual([]);
    });
  });
});

describe('closed days are folded into a raw chunk per host, family and day', () => {
  // A day two days back, so it and the next day's first hour are in the past; the jobs run "then".
  const day = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
  const lateTs = day + 10 * HOUR + 20 * 60_000;
  let env: Env;
  let owner: TestClient;
  let agent: TestAgent;
  const cpuPoints: { ts: number; value: number }[] = [];

  const query = (from: number, to: number, step: string) =>
    `series=cpu.total&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&step=${step}`;
  const chart = (from: number, to: number, step: string) => cpuChart(owner, agent.hostId, from, to, step);
  const exportCsv = async (from: number, to: number) => {
    const res = await owner.get(`/api/v1/hosts/${agent.hostId}/series/export?${query(from, to, '1m')}`);
    expect(res.status).toBe(200);
    return res.text();
  };
  const observations = (from: number, to: number) =>
    withDatabase(env, async (db) =>
      rawObservations(
        db,
        { tenantId: agent.tenantId, hostId: agent.hostId, series: ['cpu.total'], from, to },
        await readWatermarks(db),
      ),
    );
  // Raw points are within half a quantum (0.01 for percentages); rollup averages within one.
  const expectDirect = (answer: HistorySeries, tolerance: number) => expectCpuDirect(answer, cpuPoints, tolerance);
  const rawRows = () =>
    withDatabase(env, async (db) => {
      const result = await db.execute<{ start: string; hours: number; family: string; p: string; part: string }>(
        sql`SELECT (extract(epoch FROM period_start) * 1000)::bigint::text AS start, period_hours AS hours, family,
              md5(payload) AS p, tableoid::regclass::text AS part
            FROM history_raw WHERE host_id = ${agent.hostId} ORDER BY period_start, family`,
      );
      return result.rows.map((row) => ({ ...row, start: Number(row.start), hours: Number(row.hours) }));
    });
  const run = (now: number) => withDatabase(env, (db) => runHistoryJobs(db, { now, budget: 10_000 }));

  // Raw-tier ranges inside the day (an hour, one straddling hours, the morning at 30 s) and a 1-minute chart
  // ending mid-hour: what they answer before the fold, they answer after it.
  const ranges: [number, number, string][] = [
    [day + 10 * HOUR, day + 11 * HOUR, '10s'],
    [day + 10 * HOUR + 15 * 60_000, day + 11 * HOUR + 45 * 60_000, '10s'],
    [day, day + 8 * HOUR, '30s'],
    [day + 10 * HOUR, day + 10 * HOUR + 45 * 60_000, '1m'],
  ];
  const before: { charts: HistorySeries[]; observed: unknown; csv: string } = { charts: [], observed: null, csv: '' };

  beforeAll(async () => {
    env = await isolatedEnv();
    const setup = await ownerWithIngestKey(env);
    owner = setup.owner;
    agent = await TestAgent.enroll(env, setup.ingestKey, crypto.randomUUID(), 'fold-day');
    // The day's first hour and a half, two hours from 10:00 (a 1 s live stretch, a hole for a late replay),
    // and its last hour into the next day's first.
    const samples: Sample[] = [];
    let i = 0;
    const stretch = (from: number, to: number, live?: { from: number; to: number }) => {
      for (let ts = from; ts < to; ts += live && ts >= live.from && ts < live.to ? 1_000 : 10_000) {
        if (ts >= lateTs && ts < lateTs + 5 * 60_000) continue;
        const s = noisySample(ts, i++);
        samples.push(s);
        cpuPoints.push({ ts, value: s.cpu?.total as number });
      }
    };
    stretch(day, day + 90 * 60_000);
    stretch(day + 10 * HOUR, day + 12 * HOUR, { from: day + 11 * HOUR, to: day + 11 * HOUR + 5 * 60_000 });
    stretch(day + 23 * HOUR, day + DAY + HOUR);
    for (let k = 0; k < samples.length; k += 300) {
      expect((await agent.push(agent.batch(samples.slice(k, k + 300)))).status).toBe(200);
    }
    // All but the day's last hour compacted and rolled up: the day is still hours.
    const report = await run(day + 23 * HOUR + 20 * 60_000);
    expect(report.daysFolded).toBe(0);
    expect((await rawRows()).every((row) => row.hours === 1)).toBe(true);
    for (const [from, to, step] of ranges) before.charts.push(await chart(from, to, step));
    before.observed = await observations(day + 10 * HOUR + 5 * 60_000, day + 11 * HOUR + 2 * 60_000);
    before.csv = await exportCsv(day + 10 * HOUR, day + 12 * HOUR);
  });

  it('folds the closed day into one chunk per family in the day’s partition, the open day’s hours left', async () => {
    const report = await run(day + DAY + HOUR + 20 * 60_000);
    expect(report.rolledUpUntil).toBe(day + DAY + HOUR);
    expect(report.daysFolded).toBe(1);
    expect(report.foldedUntil).toBe(day + DAY);
    const rows = await rawRows();
    const ofDay = rows.filter((row) => row.start < day + DAY);
    expect(ofDay.length).toBeGreaterThanOrEqual(2);
    expect(ofDay.map((row) => [row.start, row.hours])).toEqual(ofDay.map(() => [day, DAY_CHUNK_HOURS]));
    expect(new Set(ofDay.map((row) => row.family)).size).toBe(ofDay.length);
    expect(new Set(ofDay.map((row) => row.part))).toEqual(new Set([partitionName(CHUNK_TABLES.raw, day)]));
    const nextDay = rows.filter((row) => !ofDay.includes(row));
    expect(nextDay.length).toBeGreaterThan(0);
    expect(nextDay.every((row) => row.hours === 1)).toBe(true);
  });

  it('answers every reader exactly as before the fold, and as a direct aggregation across folded and open days', async () => {
    for (const [k, [from, to, step]] of ranges.entries()) {
      expect(await chart(from, to, step), `${step} chart from ${new Date(from).toISOString()}`).toEqual(
        before.charts[k],
      );
    }
    expect(await observations(day + 10 * HOUR + 5 * 60_000, day + 11 * HOUR + 2 * 60_000)).toEqual(before.observed);
    expect(await exportCsv(day + 10 * HOUR, day + 12 * HOUR)).toBe(before.csv);
    for (const [from, to, step] of ranges) expectDirect(await chart(from, to, step), step === '1m' ? 0.0101 : 0.0051);
    // Raw points across midnight: the folded day's last hour and the open day's first hour.
    const straddling = await chart(day + 22 * HOUR + 30 * 60_000, day + DAY + HOUR, '10s');
    expect(straddling.tier).toBe('raw');
    expectDirect(straddling, 0.0051);
    expectDirect(await chart(day, day + DAY + HOUR, '2m'), 0.0101);
    expectDirect(await chart(day, day + DAY, '1h'), 0.0101);
  });

  it('is idempotent: running the jobs again changes no chunk', async () => {
    const rows = await rawRows();
    const report = await run(day + DAY + HOUR + 20 * 60_000);
    expect(report.daysFolded).toBe(0);
    expect(await rawRows()).toEqual(rows);
  });

  it('merges a late replay into the folded day’s chunks, and rolls the day up again', async () => {
    const rows = await rawRows();
    const late = noisySample(lateTs, 7);
    expect((await agent.push(agent.batch([late]))).status).toBe(200);
    const report = await run(day + DAY + HOUR + 25 * 60_000);
    expect(report.lateMerged).toBe(1);
    cpuPoints.push({ ts: lateTs, value: late.cpu?.total as number });
    cpuPoints.sort((a, b) => a.ts - b.ts);
    const after = await rawRows();
    // Still a chunk per family and day: the cpu one rewritten, with the late point in it.
    expect(after.map((row) => [row.start, row.hours, row.family])).toEqual(
      rows.map((row) => [row.start, row.hours, row.family]),
    );
    expect(after.find((row) => row.family === 'cpu' && row.hours === DAY_CHUNK_HOURS)?.p).not.toBe(
      rows.find((row) => row.family === 'cpu' && row.hours === DAY_CHUNK_HOURS)?.p,
    );
    const hour = await chart(day + 10 * HOUR, day + 11 * HOUR, '10s');
    expect(hour.series[0]?.avg[(lateTs - day - 10 * HOUR) / 10_000]).not.toBeNull();
    expectDirect(hour, 0.0051);
    expectDirect(await chart(day, day + DAY, '2m'), 0.0101);
    expectDirect(await chart(day, day + DAY, '1h'), 0.0101);
  });

  it('keeps a folded day until all of it is past an organisation’s lowered retention', async () => {
    const ofDay = async () => (await rawRows()).filter((row) => row.hours === DAY_CHUNK_HOURS && row.start === day);
    const count = (await ofDay()).length;
    expect(count).toBeGreaterThan(0);
    await withDatabase(env, async (db) => {
      await db.execute(sql`UPDATE tenants SET retention_raw_days = 1 WHERE id = ${agent.tenantId}`);
      // Past retention from noon: the day's chunks still hold its afternoon.
      await applyRetention(db, day + DAY + 12 * HOUR, day + DAY);
    });
    expect(await ofDay()).toHaveLength(count);
    await withDatabase(env, (db) => applyRetention(db, day + 2 * DAY + HOUR, day + DAY));
    expect(await ofDay()).toEqual([]);
  });
});
