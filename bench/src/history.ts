/**
 * `history`: p50/p95 of one chart's read (`GET /hosts/:id/series`, minus auth and JSON: host, retention and
 * watermarks, the plan, the chunks read and bucketed, as worker/src/api/history.ts does it) for 1 h / 24 h / 7 d / 30 d / 1 y
 * ending now, on `days` of the synthetic host at 10 s, against the same chart aggregated from jsonb rows (the
 * old layout) with date_bin/GROUP BY, in the same database, alternating run by run.
 *
 * The host's history is as the jobs leave it: raw chunks per closed hour (writeRawChunks), folded into a chunk
 * per closed day (foldHostDay), 1-minute and 15-minute chunks per day and 1-hour chunks per month, today's
 * closed hours in today's 1-minute chunk (rollUpHostHour), the open half hour still landing rows. A second
 * database gets the first one's chunks byte for byte. The baseline table holds the last `baselineDays` (seeding 30 days of jsonb
 * rows costs minutes and ~400 MB), so ranges beyond it have no baseline. Last, the 1 y chart once more over
 * a whole year of 1-hour chunks (FULL_YEAR).
 */
import { openSqlSession, type ScratchDatabase, type SqlSession } from '@pulsewire/stack';
import { hostHistoryContext } from '../../worker/src/history/context.ts';
import { planHistory } from '../../worker/src/history/plan.ts';
import { type HistoryAnswer, readHistory } from '../../worker/src/history/query.ts';
import { monthOf } from '../../worker/src/history/rollup-job.ts';
import type { DatabaseTarget } from './databases.ts';
import {
  type BenchTenant,
  benchTenant,
  copyChunks,
  foldDays,
  insertLanding,
  insertTenant,
  queryable,
  repeatHourTier,
  rollUpHours,
  writeRawHours,
} from './history-data.ts';
import { type HistoryTimeline, historyTimeline } from './history-timeline.ts';
import {
  BASELINE_CUSTOM,
  BASELINE_SAMPLES,
  type BaselineBucket,
  baselineBytes,
  baselineChart,
  createBaselineTables,
  fillBaseline,
} from './jsonb-baseline.ts';
import { vacuum } from './relation-sizes.ts';
import { type Distribution, distribution } from './stats.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const CHART_RANGES = [
  { label: '1 h', ms: HOUR },
  { label: '24 h', ms: DAY },
  { label: '7 d', ms: 7 * DAY },
  { label: '30 d', ms: 30 * DAY },
  { label: '1 y', ms: 365 * DAY },
] as const;
const YEAR = 365 * DAY;
/**
 * The 1 y chart again once the 1-hour tier holds a whole year (the 30 days' 1-hour chunks repeated, dates
 * moved): what a host a year old costs, where the 30 days of data hold one month of it.
 */
export const FULL_YEAR = { label: '1 y, a year of 1 h chunks', ms: YEAR };
/** One chart's series: a plain one, a derived one, and one per network interface. */
export const CHART_SERIES = ['cpu.total', 'memory.used_pct', 'net.rx'];
export const MAX_POINTS = 1000;
/** The bar's bytes read per chart (design.md: ≤ 1 MB). */
export const BYTES_READ_BAR = 1_000_000;
/** A Wednesday afternoon, UTC: today's raw hours, yesterday's roll-ups and an open landing hour all in play. */
export const NOW = Date.UTC(2026, 3, 1, 14, 30);
const WARM_UP = 3;
/**
 * The baseline over a week of jsonb rows takes seconds per run here: it runs alongside ours until it has
 * `runs` runs or has spent this long, and at least MIN_BASELINE_RUNS times (its count is in the results).
 */
const BASELINE_BUDGET_MS = 60_000;
const MIN_BASELINE_RUNS = 5;

export interface HistoryOptions {
  days: number;
  baselineDays: number;
  runs: number;
  log: (line: string) => void;
}

export interface RangeRun {
  range: string;
  tier: string;
  stepMs: number;
  /** Buckets per series, and series in the answer. */
  points: number;
  series: number;
  bytesRead: number;
  incomplete: boolean;
  latencyMs: Distribution;
  /**
   * This process' CPU time per chart (decoding and bucketing; with PGlite, the database's work too): steadier
   * than wall time on a shared machine.
   */
  cpuMs: Distribution;
  baseline: {
    latencyMs: Distribution;
    /** Rows the aggregation scans and the stored jsonb bytes they hold. */
    rows: number;
    bytesRead: number;
    /** Largest difference of a bucket's average between the two (relative to the value, at least 1). */
    maxAvgDifference: number;
  } | null;
  met: boolean;
}

export interface HistoryRun {
  database: string;
  days: number;
  baselineDays: number;
  runs: number;
  timeline: Record<keyof HistoryTimeline, string>;
  chunksFrom: string;
  seedSeconds: number;
  baselineSeconds: number;
  ranges: RangeRun[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The jsonb baseline's request for a chart's plan: the same range, from its first step boundary, and step. */
export function baselineRequestFor(
  tenantId: string,
  hostId: string,
  plan: { from: number; to: number; stepMs: number },
): { tenantId: string; hostId: string; from: number; to: number; stepMs: number } {
  return {
    tenantId,
    hostId,
    from: Math.floor(plan.from / plan.stepMs) * plan.stepMs,
    to: plan.to,
    stepMs: plan.stepMs,
  };
}
const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;

export async function seed(
  session: SqlSession,
  tenant: BenchTenant,
  timeline: HistoryTimeline,
  source: { session: SqlSession } | null,
  log: (line: string) => void,
): Promise<void> {
  const [host] = tenant.hosts;
  if (!host) throw new Error('no host');
  await insertTenant(session, tenant);
  if (source) {
    await copyChunks(source.session, session, 'raw', timeline.rollupFrom, timeline.compactedUntil);
    await copyChunks(source.session, session, '1m', timeline.rollupFrom, timeline.rolledUpUntil);
    await copyChunks(source.session, session, '15m', timeline.rollupFrom, timeline.rolledUpUntil);
    await copyChunks(source.session, session, '1h', monthOf(timeline.rollupFrom), timeline.rolledUpUntil);
  } else {
    const week = 7 * DAY;
    for (let from = timeline.start; from < timeline.compactedUntil; from += week) {
      await writeRawHours(session, tenant.tenantId, host, from, Math.min(from + week, timeline.compactedUntil));
      log(`  raw chunks up to ${iso(Math.min(from + week, timeline.compactedUntil))}`);
    }
    await rollUpHours(session, tenant.tenantId, host, timeline.rollupFrom, timeline.rolledUpUntil);
    await foldDays(session, tenant, timeline.rollupFrom, timeline.rolledUpUntil);
    log(`  rolled up to ${iso(timeline.rolledUpUntil)}, closed days folded`);
  }
  await insertLanding(session, tenant.tenantId, host, timeline.compactedUntil, timeline.now);
  await session.client.query(
    `INSERT INTO history_jobs (name, done_until) VALUES ('compact', $1), ('rollup', $2)
     ON CONFLICT (name) DO UPDATE SET done_until = excluded.done_until`,
    [iso(timeline.compactedUntil), iso(timeline.rolledUpUntil)],
  );
}

/** Largest |a − b| / max(|b|, 1) over the buckets both have. */
function maxAvgDifference(answer: HistoryAnswer, baseline: readonly BaselineBucket[], stepMs: number): number {
  const first = answer.timestamps[0] ?? 0;
  let worst = 0;
  for (const bucket of baseline) {
    const ours = answer.series.get(bucket.key)?.avg[Math.round((bucket.bucket - first) / stepMs)];
    if (ours === null || ours === undefined) return Number.POSITIVE_INFINITY;
    worst = Math.max(worst, Math.abs(ours - bucket.avg) / Math.max(Math.abs(bucket.avg), 1));
  }
  return worst;
}

async function measureRanges(
  session: SqlSession,
  tenant: BenchTenant,
  timeline: HistoryTimeline,
  options: HistoryOptions,
  ranges: readonly { label: string; ms: number }[],
): Promise<RangeRun[]> {
  const database = queryable(session);
  const hostId = tenant.hosts[0]?.id as string;
  const results: RangeRun[] = [];
  for (const range of ranges) {
    // What the API does per request: host, retention and watermarks (one query), the plan (tier and step from
    // the range), the read.
    const chart = async () => {
      const started = performance.now();
      const cpu = process.cpuUsage();
      const context = await hostHistoryContext(database, tenant.tenantId, hostId);
      if (!context) throw new Error('no host');
      const { watermarks } = context;
      const plan = planHistory(
        { from: iso(NOW - range.ms), to: iso(NOW), maxPoints: MAX_POINTS },
        context.retention,
        NOW,
      );
      const answer = await readHistory(
        database,
        { tenantId: tenant.tenantId, hostId, series: CHART_SERIES, ...plan },
        watermarks,
      );
      const used = process.cpuUsage(cpu);
      return { ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000, plan, answer };
    };
    const probe = await chart();
    const { plan, answer } = probe;
    const baselineRequest = baselineRequestFor(tenant.tenantId, hostId, plan);
    const withBaseline = baselineRequest.from >= timeline.baselineFrom;
    const baselineRun = async () => {
      const started = performance.now();
      const buckets = await baselineChart(session, baselineRequest);
      return { ms: performance.now() - started, buckets };
    };
    for (let i = 0; i < WARM_UP; i++) await chart();
    // One warm-up for the baseline: it reads the same rows every time, and a run can take seconds.
    const difference = withBaseline ? maxAvgDifference(answer, (await baselineRun()).buckets, plan.stepMs) : 0;
    const ours: number[] = [];
    const oursCpu: number[] = [];
    const theirs: number[] = [];
    let baselineSpent = 0;
    for (let i = 0; i < options.runs; i++) {
      const measured = await chart();
      ours.push(measured.ms);
      oursCpu.push(measured.cpuMs);
      if (withBaseline && (theirs.length < MIN_BASELINE_RUNS || baselineSpent < BASELINE_BUDGET_MS)) {
        const { ms } = await baselineRun();
        theirs.push(ms);
        baselineSpent += ms;
      }
    }
    const read = withBaseline ? await baselineBytes(session, baselineRequest) : null;
    const latencyMs = distribution(ours);
    const points = answer.timestamps.length;
    const run: RangeRun = {
      range: range.label,
      tier: plan.tier,
      stepMs: plan.stepMs,
      points,
      series: answer.series.size,
      bytesRead: answer.bytesRead,
      incomplete: answer.incomplete,
      latencyMs,
      cpuMs: distribution(oursCpu),
      baseline: read
        ? { latencyMs: distribution(theirs), rows: read.rows, bytesRead: read.bytes, maxAvgDifference: difference }
        : null,
      met: latencyMs.p95 < 50 && points <= MAX_POINTS && answer.bytesRead <= BYTES_READ_BAR && !answer.incomplete,
    };
    results.push(run);
    options.log(
      `  ${range.label}: ${plan.tier} tier, step ${plan.stepMs / 1000} s, ${points} points × ${run.series} series, ` +
        `${(answer.bytesRead / 1000).toFixed(1)} kB read; p50 ${latencyMs.p50.toFixed(1)} ms, p95 ${latencyMs.p95.toFixed(1)} ms (CPU p50 ${run.cpuMs.p50.toFixed(1)} ms)` +
        (run.baseline
          ? `; jsonb rows p95 ${run.baseline.latencyMs.p95.toFixed(0)} ms over ${run.baseline.latencyMs.count} runs (${run.baseline.rows} rows, ` +
            `${(run.baseline.bytesRead / 1e6).toFixed(1)} MB, avg Δ ${run.baseline.maxAvgDifference.toExponential(1)})`
          : '; no baseline (beyond the jsonb table)'),
    );
  }
  return results;
}

/** The history benchmark on each database in turn; the first one's chunks are copied into the next. */
export async function runHistory(targets: readonly DatabaseTarget[], options: HistoryOptions): Promise<HistoryRun[]> {
  const tenant = benchTenant(1);
  const timeline = historyTimeline(NOW, options.days, options.baselineDays);
  const [host] = tenant.hosts;
  if (!host) throw new Error('no host');
  const runs: HistoryRun[] = [];
  const opened: { database: ScratchDatabase; session: SqlSession }[] = [];
  let source: { session: SqlSession; label: string } | null = null;
  try {
    for (const target of targets) {
      const database = await target.start();
      const session = await openSqlSession(database.url).catch(async (error: unknown) => {
        await database.stop();
        throw error;
      });
      opened.push({ database, session });
      options.log(`› history on ${database.label}: ${options.days} days of one host at 10 s`);
      let started = performance.now();
      await seed(session, tenant, timeline, source, options.log);
      const seedSeconds = seconds(started);
      started = performance.now();
      await createBaselineTables(session);
      const filled = await fillBaseline(session, tenant.tenantId, host, timeline.baselineFrom, timeline.now);
      const baselineSeconds = seconds(started);
      options.log(
        `  seeded in ${seedSeconds} s (${source ? `chunks copied from ${source.label}` : 'chunks generated'}); ` +
          `${filled.samples} jsonb rows in ${baselineSeconds} s`,
      );
      await vacuum(session, [
        'history_raw',
        'history_1m',
        'history_15m',
        'history_1h',
        'host_samples',
        'custom_metric_points',
      ]);
      await vacuum(session, [BASELINE_SAMPLES, BASELINE_CUSTOM]);
      runs.push({
        database: database.label,
        days: options.days,
        baselineDays: options.baselineDays,
        runs: options.runs,
        timeline: Object.fromEntries(Object.entries(timeline).map(([k, v]) => [k, iso(v)])) as HistoryRun['timeline'],
        chunksFrom: source ? `copied from ${source.label}` : 'generated',
        seedSeconds,
        baselineSeconds,
        ranges: await measureRanges(session, tenant, timeline, options, CHART_RANGES),
      });
      // Then the year a 1 y chart reads once a host has one: the 1-hour tier before the 30 days filled in.
      const yearFrom = Math.floor((NOW - YEAR) / DAY) * DAY;
      const wholeDays = { from: timeline.rollupFrom + DAY, to: Math.floor(timeline.rolledUpUntil / DAY) * DAY };
      started = performance.now();
      const filled1h = source
        ? await copyChunks(source.session, session, '1h', monthOf(yearFrom), timeline.rolledUpUntil)
        : await repeatHourTier(session, tenant.tenantId, host.id, wholeDays, yearFrom, timeline.rollupFrom);
      await vacuum(session, ['history_1h']);
      options.log(`  1-hour tier filled back to ${iso(yearFrom)}: ${filled1h} chunks in ${seconds(started)} s`);
      const run = runs[runs.length - 1] as HistoryRun;
      run.ranges.push(...(await measureRanges(session, tenant, timeline, options, [FULL_YEAR])));
      source ??= { session, label: database.label };
    }
  } finally {
    for (const { database, session } of opened.reverse()) {
      await session.end().catch(() => {});
      await database.stop();
    }
  }
  return runs;
}
