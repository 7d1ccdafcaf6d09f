/**
 * Where one history chart's time goes: seeds the history bench's host (30 days) on the PostgreSQL server
 * and/or PGlite, then per range runs the chart `--runs` times and reports CPU and wall p50/p95, queries and
 * rows per chart, and the wall time of each query. Run under `node --cpu-prof` to see the functions. Not part
 * of `pnpm bench`.
 *   node bench/src/history-profile.ts [--databases postgres,pglite] [--runs 40] [--days 30] [--ranges '1 h,7 d']
 * HISTORY_PROFILE_URL: a database on the server kept between runs (seeding it takes minutes): seed it once with
 * `--seed`; later runs read it and copy its chunks into PGlite. HISTORY_PROFILE_BASE: another checkout's
 * worker/src/history/query.ts, whose `readHistory` runs alternately with this one, answers compared (A/B).
 * --baseline-days N: fill the jsonb-row baseline for the last N days and run its chart between the first runs as
 * `pnpm bench` does (its first 5 runs, or 60 s): on PGlite that scan evicts the chunks from the buffer cache, so
 * the charts after it are the bench's slowest. `--samples` prints each variant's wall times in run order.
 */
import { parseArgs } from 'node:util';
import { migrateDatabase, openSqlSession } from '@pulsewire/stack';
import { hostHistoryContext } from '../../worker/src/history/context.ts';
import { planHistory } from '../../worker/src/history/plan.ts';
import { readHistory } from '../../worker/src/history/query.ts';
import { type DatabaseKind, databaseTargets } from './databases.ts';
import { baselineRequestFor, CHART_RANGES, CHART_SERIES, MAX_POINTS, NOW, seed } from './history.ts';
import { type BenchTenant, benchTenant, queryable } from './history-data.ts';
import { historyTimeline } from './history-timeline.ts';
import {
  BASELINE_CUSTOM,
  BASELINE_SAMPLES,
  baselineChart,
  createBaselineTables,
  fillBaseline,
} from './jsonb-baseline.ts';
import { distribution } from './stats.ts';

const { values } = parseArgs({
  options: {
    databases: { type: 'string', default: 'postgres,pglite' },
    runs: { type: 'string', default: '40' },
    days: { type: 'string', default: '30' },
    seed: { type: 'boolean', default: false },
    ranges: { type: 'string', default: '' },
    'baseline-days': { type: 'string', default: '0' },
    samples: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const baselineDays = Number(values['baseline-days']);
/** As the bench: the baseline runs between the first MIN_BASELINE_RUNS charts, then until BASELINE_BUDGET_MS. */
const MIN_BASELINE_RUNS = 5;
const BASELINE_BUDGET_MS = 60_000;
// HISTORY_PROFILE_BASE: another checkout's worker/src/history/query.ts, run alternately with this one (A/B).
const base = process.env.HISTORY_PROFILE_BASE ? await import(process.env.HISTORY_PROFILE_BASE) : null;
const tenant = benchTenant(1);
const timeline = historyTimeline(NOW, Number(values.days), Math.max(baselineDays, 1));
const iso = (ms: number) => new Date(ms).toISOString();
let source: Awaited<ReturnType<typeof openSqlSession>> | null = null;
const opened: { stop(): Promise<void>; end(): Promise<void> }[] = [];
try {
  // A seeded database kept between runs (seeding the server takes minutes): HISTORY_PROFILE_URL, seeded once
  // with --seed, then the source of PGlite's copy.
  const kept = process.env.HISTORY_PROFILE_URL;
  if (kept) {
    const session = await openSqlSession(kept);
    if (values.seed) {
      await migrateDatabase(kept);
      await seed(session, tenant, timeline, null, () => {});
      await session.client.query('VACUUM (ANALYZE)');
    }
    if (!values.seed) {
      // The kept database's own tenant and host.
      const { rows } = await session.client.query<{ tenant_id: string; id: string }>(
        'SELECT tenant_id, id FROM hosts LIMIT 1',
      );
      tenant.tenantId = rows[0]?.tenant_id as string;
      (tenant.hosts[0] as { id: string }).id = rows[0]?.id as string;
    }
    source = session;
    opened.push({ stop: async () => {}, end: session.end });
  }
  const targets = [
    ...(kept && values.databases.includes('postgres')
      ? [{ start: async () => ({ label: 'PostgreSQL (kept)', url: kept, stop: async () => {} }) }]
      : []),
    ...(await databaseTargets(
      values.databases.split(',').filter((d) => !kept || d !== 'postgres') as DatabaseKind[],
      console.log,
    )),
  ];
  for (const target of targets) {
    const database = await target.start();
    const session = database.url === kept && source ? source : await openSqlSession(database.url);
    opened.push({ stop: database.stop, end: session.end });
    const started = performance.now();
    if (database.url !== kept) {
      await seed(session, tenant, timeline, source ? { session: source } : null, () => {});
      await session.client.query('VACUUM (ANALYZE)');
    }
    // Not in the kept database: its tables are the seeded history only.
    const baselineHere = baselineDays > 0 && database.url !== kept;
    if (baselineHere) {
      await createBaselineTables(session);
      const host = tenant.hosts[0] as BenchTenant['hosts'][number];
      await fillBaseline(session, tenant.tenantId, host, timeline.baselineFrom, timeline.now);
      await session.client.query(`VACUUM (ANALYZE) ${BASELINE_SAMPLES}, ${BASELINE_CUSTOM}`);
    }
    console.log(`${database.label}: seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    let queries = 0;
    const perQuery = new Map<string, number>();
    let rows = 0;
    const query = session.client.query.bind(session.client);
    // biome-ignore lint/suspicious/noExplicitAny: counting wrapper over pg's overloads
    (session.client as any).query = async (...args: any[]) => {
      queries++;
      const t = performance.now();
      // biome-ignore lint/suspicious/noExplicitAny: as above
      const result: any = await (query as any)(...args);
      const text: string = typeof args[0] === 'string' ? args[0] : args[0].text;
      const label = /from "(\w+)"/i.exec(text)?.[1] ?? text.slice(0, 30);
      perQuery.set(label, (perQuery.get(label) ?? 0) + performance.now() - t);
      rows += result?.rowCount ?? result?.rows?.length ?? 0;
      return result;
    };
    const db = queryable(session);
    const hostId = tenant.hosts[0]?.id as string;
    for (const range of CHART_RANGES.filter((r) => !values.ranges || values.ranges.split(',').includes(r.label))) {
      // The host's context and the range's plan, as the API builds them for each chart.
      const planned = async () => {
        const context = await hostHistoryContext(db, tenant.tenantId, hostId);
        if (!context) throw new Error('no host');
        const plan = planHistory(
          { from: iso(NOW - range.ms), to: iso(NOW), maxPoints: MAX_POINTS },
          context.retention,
          NOW,
        );
        return { context, plan };
      };
      // The chart as the bench draws it, with this checkout's reader or the other checkout's.
      const chartWith = (read: typeof readHistory) => async () => {
        const { context, plan } = await planned();
        return read(db, { tenantId: tenant.tenantId, hostId, series: CHART_SERIES, ...plan }, context.watermarks);
      };
      const chart = chartWith(readHistory);
      const baseChart = chartWith(
        (base as { readHistory: typeof readHistory } | undefined)?.readHistory ?? readHistory,
      );
      if (base) {
        // Same answers: every bucket of every series.
        const [a, b] = [await chart(), await baseChart()];
        const same = JSON.stringify([...a.series]) === JSON.stringify([...b.series]);
        if (!same) {
          // The first bucket that differs, to see why.
          const keys = [...new Set([...a.series.keys(), ...b.series.keys()])];
          const differing = keys.flatMap((key) => {
            const [x, y] = [a.series.get(key), b.series.get(key)];
            if (!x || !y) return [`${key}: only in ${x ? 'new' : 'base'}`];
            const i = x.avg.findIndex((v, j) => v !== y.avg[j] || x.min[j] !== y.min[j] || x.max[j] !== y.max[j]);
            return i < 0 ? [] : [`${key} at ${iso(a.timestamps[i] as number)}: ${x.avg[i]} vs ${y.avg[i]}`];
          });
          console.log(`  ${range.label}: ANSWERS DIFFER: ${differing.slice(0, 3).join('; ')}`);
        }
      }
      const variants = base ? { new: chart, base: baseChart } : { new: chart };
      for (let i = 0; i < 5; i++) for (const run of Object.values(variants)) await run();
      const { plan } = await planned();
      const baselineRequest = baselineRequestFor(tenant.tenantId, hostId, plan);
      const withBaseline = baselineHere && baselineRequest.from >= timeline.baselineFrom;
      let baselineRuns = 0;
      let baselineSpent = 0;
      const wall: Record<string, number[]> = {};
      const cpu: Record<string, number[]> = {};
      const counted: Record<string, { queries: number; rows: number; perQuery: Map<string, number> }> = {};
      for (let i = 0; i < runs; i++) {
        for (const [name, run] of Object.entries(variants)) {
          queries = 0;
          rows = 0;
          perQuery.clear();
          const t = performance.now();
          const c = process.cpuUsage();
          await run();
          const u = process.cpuUsage(c);
          wall[name] = [...(wall[name] ?? []), performance.now() - t];
          cpu[name] = [...(cpu[name] ?? []), (u.user + u.system) / 1000];
          // Each query's wall time summed over the runs (printed as the mean per chart).
          const sums = counted[name]?.perQuery ?? new Map<string, number>();
          for (const [label, ms] of perQuery) sums.set(label, (sums.get(label) ?? 0) + ms);
          counted[name] = { queries, rows, perQuery: sums };
        }
        if (withBaseline && (baselineRuns < MIN_BASELINE_RUNS || baselineSpent < BASELINE_BUDGET_MS)) {
          const t = performance.now();
          await baselineChart(session, baselineRequest);
          baselineSpent += performance.now() - t;
          baselineRuns++;
        }
      }
      for (const name of Object.keys(variants)) {
        const w = distribution(wall[name] as number[]);
        const p = distribution(cpu[name] as number[]);
        const q = counted[name] as (typeof counted)[string];
        console.log(
          `  ${range.label.padEnd(5)} ${name.padEnd(4)} wall p50 ${w.p50.toFixed(1)} p95 ${w.p95.toFixed(1)}  cpu p50 ${p.p50.toFixed(1)} p95 ${p.p95.toFixed(1)}  queries ${q.queries} rows ${q.rows}  ` +
            [...q.perQuery].map(([k, v]) => `${k} ${(v / runs).toFixed(1)}`).join(', '),
        );
        if (values.samples) console.log(`        ${(wall[name] as number[]).map((ms) => ms.toFixed(0)).join(' ')}`);
      }
    }
    source ??= session;
  }
} finally {
  for (const o of opened.reverse()) {
    await o.end().catch(() => {});
    await o.stop();
  }
}
