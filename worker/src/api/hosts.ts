import { createRoute } from '@hono/zod-openapi';
import {
  DEFAULT_EVENTS_LIMIT,
  DEFAULT_EVENTS_RANGE_MS,
  DEFAULT_SERIES_RANGE_MS,
  glanceOf,
  HostDetail,
  HostEvents,
  HostEventsQuery,
  HostList,
  HostSeries,
  HostSeriesQuery,
  hostStatus,
  MAX_SERIES_POINTS,
  MAX_SERIES_RANGE_MS,
  type Sample,
  toLiveSample,
} from '@pulsewire/protocol';
import { and, asc, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { caller, requireCaller } from '../auth/caller.ts';
import { hosts } from '../db/schema.ts';
import { parseConfig } from '../env.ts';
import { hostEvents } from '../history/events.ts';
import { GLANCE_SECTIONS, latestSections } from '../history/latest.ts';
import { resolveRange } from '../history/range.ts';
import { seriesSamples } from '../history/series.ts';
import type { AppEnv } from '../http/app-env.ts';
import { db } from '../http/database.ts';
import { notFound } from '../http/errors.ts';
import { jsonRoute, router } from '../http/route.ts';
import { IdParam } from './params.ts';

const tags = ['hosts'];

type HostRow = typeof hosts.$inferSelect;

function summarize(c: Context<AppEnv>, host: HostRow, latest: Sample | undefined) {
  const pushIntervalMs = parseConfig(c.env).INGEST_IDLE_PUSH_MS;
  const facts = host.facts as { os?: string };
  return {
    id: host.id,
    name: host.name,
    status: hostStatus(host.lastSeenAt?.getTime() ?? null, Date.now(), pushIntervalMs),
    lastSeenAt: host.lastSeenAt?.toISOString() ?? null,
    labels: host.labels,
    os: facts.os ?? null,
    agentVersion: host.agentVersion,
    glance: latest ? glanceOf(latest) : null,
  };
}

/** The caller's host, or 404 (another tenant's host looks like no host). */
async function ownHost(c: Context<AppEnv>, id: string): Promise<HostRow> {
  const [host] = await db(c)
    .select()
    .from(hosts)
    .where(and(eq(hosts.id, id), eq(hosts.tenantId, caller(c).tenantId)))
    .limit(1);
  if (!host) throw notFound('No such host');
  return host;
}

/** `jsonRoute` plus a query-string schema (validated like bodies: 422 naming `query.<field>`). */
function withQuery<
  R extends Parameters<typeof createRoute>[0],
  Q extends typeof HostSeriesQuery | typeof HostEventsQuery,
>(route: R, query: Q) {
  return createRoute({ ...route, request: { params: IdParam, query } });
}

export const hostRoutes = router()
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/hosts',
      summary: 'Hosts of the organisation with status and the latest CPU, memory and disk figures',
      tags,
      response: HostList,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const tenantId = caller(c).tenantId;
      const database = db(c);
      const rows = await database.select().from(hosts).where(eq(hosts.tenantId, tenantId)).orderBy(asc(hosts.name));
      const latest = await latestSections(database, tenantId, { sections: GLANCE_SECTIONS });
      return c.json({ hosts: rows.map((h) => summarize(c, h, latest.get(h.id))) }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/hosts/{id}',
      summary: 'One host: facts, labels, status and the newest value of every collector',
      tags,
      params: IdParam,
      response: HostDetail,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const tenantId = caller(c).tenantId;
      const database = db(c);
      const [host] = await database
        .select()
        .from(hosts)
        .where(and(eq(hosts.id, id), eq(hosts.tenantId, tenantId)))
        .limit(1);
      if (!host) throw notFound('No such host');
      const latest = (await latestSections(database, tenantId, { hostId: id })).get(id);
      return c.json(
        {
          ...summarize(c, host, latest),
          facts: host.facts,
          createdAt: host.createdAt.toISOString(),
          latest: latest ?? null,
        },
        200,
      );
    },
  )
  .openapi(
    withQuery(
      jsonRoute({
        method: 'get',
        path: '/hosts/{id}/series',
        summary:
          'Samples of one host from `from` to `to` (ISO 8601; default the last 5 minutes, at most 24 h), oldest first, at most 1000 points (a longer range is thinned evenly)',
        tags,
        params: IdParam,
        response: HostSeries,
        status: 200,
        middleware: [requireCaller('viewer')],
      }),
      HostSeriesQuery,
    ),
    async (c) => {
      const { id } = c.req.valid('param');
      const range = resolveRange(c.req.valid('query'), {
        defaultSpanMs: DEFAULT_SERIES_RANGE_MS,
        maxSpanMs: MAX_SERIES_RANGE_MS,
      });
      const host = await ownHost(c, id);
      const samples = await seriesSamples(db(c), {
        tenantId: host.tenantId,
        hostId: host.id,
        ...range,
        maxPoints: MAX_SERIES_POINTS,
      });
      return c.json(
        {
          hostId: host.id,
          from: range.from.toISOString(),
          to: range.to.toISOString(),
          points: samples.map(toLiveSample),
        },
        200,
      );
    },
  )
  .openapi(
    withQuery(
      jsonRoute({
        method: 'get',
        path: '/hosts/{id}/events',
        summary:
          'Application events of one host from `from` to `to` (ISO 8601; default the last 24 hours), newest first; optionally one `kind`; at most `limit` (default 100, at most 1000)',
        tags,
        params: IdParam,
        response: HostEvents,
        status: 200,
        middleware: [requireCaller('viewer')],
      }),
      HostEventsQuery,
    ),
    async (c) => {
      const { id } = c.req.valid('param');
      const query = c.req.valid('query');
      const range = resolveRange(query, { defaultSpanMs: DEFAULT_EVENTS_RANGE_MS });
      const host = await ownHost(c, id);
      const events = await hostEvents(db(c), {
        tenantId: host.tenantId,
        hostId: host.id,
        ...range,
        kind: query.kind,
        limit: query.limit ?? DEFAULT_EVENTS_LIMIT,
      });
      return c.json({ hostId: host.id, from: range.from.toISOString(), to: range.to.toISOString(), events }, 200);
    },
  );
