import { createRoute, z } from '@hono/zod-openapi';
import {
  ApiErrorBody,
  CompareQuery,
  CompareSeries,
  ExportQuery,
  HistorySeries,
  type HistorySeriesData,
  HistorySeriesQuery,
  MAX_HISTORY_RESOLVED_SERIES,
  MAX_HISTORY_SERIES,
  metricDefinition,
} from '@pulsewire/protocol';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Context } from 'hono';
import { caller, requireCaller } from '../auth/caller.ts';
import { openDatabase, type Queryable } from '../db/client.ts';
import { hosts } from '../db/schema.ts';
import { parseConfig } from '../env.ts';
import { hostHistoryContext, tenantHistoryContext } from '../history/context.ts';
import { exportRows } from '../history/export.ts';
import { type HistoryPlan, planHistory } from '../history/plan.ts';
import { isKnownSeries, readHistory, type Watermarks } from '../history/query.ts';
import { parseSeriesKey } from '../history/series-key.ts';
import type { AppEnv } from '../http/app-env.ts';
import { db } from '../http/database.ts';
import { HttpError, notFound } from '../http/errors.ts';
import { jsonRoute, router } from '../http/route.ts';
import { IdParam } from './params.ts';

const tags = ['history'];

/** The caller's host with the organisation's retention and the jobs' watermarks (one query), or a 404. */
async function ownHostContext(c: Context<AppEnv>, id: string) {
  const context = await hostHistoryContext(db(c), caller(c).tenantId, id);
  if (!context) throw notFound('No such host');
  return context;
}

/** Unknown series and too many of them are the caller's mistakes, each with its own code. */
function checkSeries(names: readonly string[]): void {
  if (names.length > MAX_HISTORY_SERIES) {
    throw new HttpError(422, 'too_many_series', `query.series: at most ${MAX_HISTORY_SERIES} series per request`, {
      path: 'query.series',
    });
  }
  const unknown = names.find((name) => !isKnownSeries(name));
  if (unknown) {
    throw new HttpError(422, 'unknown_series', `query.series: no metric is called ${JSON.stringify(unknown)}`, {
      path: 'query.series',
    });
  }
}

async function chart(
  database: Queryable,
  plan: HistoryPlan,
  target: { tenantId: string; hostId: string },
  series: readonly string[],
  watermarks: Watermarks,
) {
  const answer = await readHistory(database, { ...target, series, ...plan }, watermarks);
  if (answer.series.size > MAX_HISTORY_RESOLVED_SERIES) {
    throw new HttpError(
      422,
      'too_many_series',
      `query.series: these names match ${answer.series.size} series; at most ${MAX_HISTORY_RESOLVED_SERIES} (name them with labels)`,
      { path: 'query.series' },
    );
  }
  const data: HistorySeriesData[] = [...answer.series].map(([key, buckets]) => {
    const { metric, labels } = parseSeriesKey(key);
    return { key, metric, labels, unit: metricDefinition(metric)?.unit ?? 'number', ...buckets };
  });
  return { answer, data };
}

function answerFields(plan: HistoryPlan, timestamps: number[], incomplete: boolean) {
  return {
    from: new Date(timestamps[0] ?? plan.from).toISOString(),
    to: new Date(plan.to).toISOString(),
    stepMs: plan.stepMs,
    tier: plan.tier,
    timestamps,
    retention: { oldest: new Date(plan.oldest).toISOString(), clipped: plan.clipped },
    incomplete,
  };
}

const csvRoute = createRoute({
  method: 'get',
  path: '/hosts/{id}/series/export',
  summary:
    'Every point of the named series over [from, to] as CSV or NDJSON, streamed oldest first: raw points where they are kept, 1-minute rollups (min/avg/max/count) beyond',
  tags,
  request: { params: IdParam, query: ExportQuery },
  middleware: [requireCaller('viewer')],
  responses: {
    200: {
      description: 'The export, as an attachment',
      content: { 'text/csv': { schema: z.string() }, 'application/x-ndjson': { schema: z.string() } },
    },
    401: { description: 'Not signed in', content: { 'application/json': { schema: ApiErrorBody } } },
    404: { description: 'Not found', content: { 'application/json': { schema: ApiErrorBody } } },
    422: { description: 'Invalid field', content: { 'application/json': { schema: ApiErrorBody } } },
  },
});

function filenameSafe(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'host';
}

export const historyRoutes = router()
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/hosts/{id}/series',
      summary:
        'Series of one host over [from, to] (default the last hour) in step-aligned UTC buckets with min/avg/max, `null` for empty buckets; the tier follows the range (raw, 1-minute, 1-hour), at most `maxPoints` (default 1000) buckets',
      tags,
      params: IdParam,
      query: HistorySeriesQuery,
      response: HistorySeries,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const query = c.req.valid('query');
      checkSeries(query.series);
      const database = db(c);
      const { host, retention, watermarks } = await ownHostContext(c, id);
      const plan = planHistory(query, retention, Date.now());
      const { answer, data } = await chart(
        database,
        plan,
        { tenantId: host.tenantId, hostId: host.id },
        query.series,
        watermarks,
      );
      return c.json(
        { hostId: host.id, ...answerFields(plan, answer.timestamps, answer.incomplete), series: data },
        200,
      );
    },
  )
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/series/compare',
      summary:
        'One series over several hosts of the organisation (at most 20), bucketed like `GET /hosts/{id}/series`; ids that are not the organisation’s hosts are left out',
      tags,
      query: CompareQuery,
      response: CompareSeries,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const query = c.req.valid('query');
      checkSeries([query.series]);
      const tenantId = caller(c).tenantId;
      const database = db(c);
      const { retention, watermarks } = await tenantHistoryContext(database, tenantId);
      const plan = planHistory(query, retention, Date.now());
      const own = await database
        .select({ id: hosts.id, name: hosts.name })
        .from(hosts)
        .where(and(eq(hosts.tenantId, tenantId), inArray(hosts.id, query.hosts), isNull(hosts.deletedAt)));
      const byId = new Map(own.map((host) => [host.id, host]));
      const asked = query.hosts.flatMap((hostId) => byId.get(hostId) ?? []);
      // Hosts are read side by side (the request's pool holds a few connections): up to 20 charts one after
      // another would add their round trips up.
      const charts = await Promise.all(
        asked.map(async (host) => ({
          host,
          ...(await chart(database, plan, { tenantId, hostId: host.id }, [query.series], watermarks)),
        })),
      );
      const timestamps = charts.at(-1)?.answer.timestamps ?? [];
      const incomplete = charts.some(({ answer }) => answer.incomplete);
      const answers = charts.map(({ host, data }) => ({ hostId: host.id, name: host.name, series: data }));
      return c.json({ ...answerFields(plan, timestamps, incomplete), hosts: answers }, 200);
    },
  )
  .openapi(csvRoute, async (c) => {
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    checkSeries(query.series);
    const { host, retention } = await ownHostContext(c, id);
    const now = Date.now();
    // Nothing is stored after now (ingest refuses the future): the export stops there, whatever `to` says.
    const to = query.to && Date.parse(query.to) > now ? new Date(now).toISOString() : query.to;
    const plan = planHistory({ from: query.from, to }, retention, now);
    // The stream outlives this handler, so it owns a connection of its own and closes it when done.
    const handle = openDatabase(parseConfig(c.env));
    const body = exportRows(handle, {
      tenantId: host.tenantId,
      hostId: host.id,
      series: query.series,
      from: plan.from,
      to: plan.to,
      rawKeptFrom: now - retention.raw * 24 * 3_600_000,
      format: query.format,
    });
    const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace(/[:T]/g, '');
    const extension = query.format === 'ndjson' ? 'ndjson' : 'csv';
    const filename = `pulsewire-${filenameSafe(host.name)}-${stamp(plan.from)}-${stamp(plan.to)}.${extension}`;
    return c.body(body, 200, {
      'Content-Type': query.format === 'ndjson' ? 'application/x-ndjson; charset=utf-8' : 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${filename}"`,
      'Cache-Control': 'no-store',
    });
  });
