import { createRoute } from '@hono/zod-openapi';
import {
  AcceptedResponse,
  DEFAULT_EVENTS_LIMIT,
  DEFAULT_EVENTS_RANGE_MS,
  DEFAULT_SERIES_RANGE_MS,
  DEFAULT_SPARKLINE_RANGE_MS,
  glanceOf,
  HostDetail,
  HostEvents,
  HostEventsQuery,
  HostKeyReplacement,
  HostList,
  HostListQuery,
  HostSamples,
  HostSamplesQuery,
  HostSparklines,
  HostSparklinesQuery,
  HostSummary,
  hostStatus,
  MAX_SERIES_POINTS,
  MAX_SERIES_RANGE_MS,
  MAX_SPARKLINE_POINTS,
  MAX_SPARKLINE_RANGE_MS,
  ReplaceHostKeyRequest,
  type Sample,
  toLiveSample,
} from '@pulsewire/protocol';
import { and, eq, isNull } from 'drizzle-orm';
import type { Context } from 'hono';
import { actorOf } from '../audit/audit-log.ts';
import { caller, requireCaller } from '../auth/caller.ts';
import { hosts } from '../db/schema.ts';
import { parseConfig } from '../env.ts';
import { hostEvents } from '../history/events.ts';
import { GLANCE_SECTIONS, latestSections, latestSectionsOfHosts } from '../history/latest.ts';
import { resolveRange } from '../history/range.ts';
import { seriesSamples } from '../history/series.ts';
import { sparklinePoints } from '../history/sparklines.ts';
import { hostPage } from '../hosts/host-page.ts';
import { deleteHost, replaceHostKey, revokeHost } from '../hosts/lifecycle.ts';
import type { AppEnv } from '../http/app-env.ts';
import { db } from '../http/database.ts';
import { notFound } from '../http/errors.ts';
import { loggableError } from '../http/loggable-error.ts';
import { log } from '../http/logger.ts';
import { jsonRoute, router } from '../http/route.ts';
import { IdParam } from './params.ts';

const tags = ['hosts'];

/** The tenant object drops a revoked or deleted host (presence, open alerts); best effort, after the commit. */
async function forgetLiveHost(c: Context<AppEnv>, tenantId: string, hostId: string): Promise<void> {
  try {
    await c.env.TENANT.get(c.env.TENANT.idFromName(tenantId)).forgetHost(tenantId, hostId);
  } catch (error) {
    log('warn', 'could not tell the tenant object a host left', { tenantId, hostId, ...loggableError(error) });
  }
}

type HostRow = typeof hosts.$inferSelect;

function summarize(c: Context<AppEnv>, host: HostRow, latest: Sample | undefined): HostSummary {
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
    revokedAt: host.revokedAt?.toISOString() ?? null,
  };
}

/** The caller's host, or 404 (another tenant's host, or a deleted one, looks like no host). */
export async function ownHost(c: Context<AppEnv>, id: string): Promise<HostRow> {
  const [host] = await db(c)
    .select()
    .from(hosts)
    .where(and(eq(hosts.id, id), eq(hosts.tenantId, caller(c).tenantId), isNull(hosts.deletedAt)))
    .limit(1);
  if (!host) throw notFound('No such host');
  return host;
}

/** `jsonRoute` plus a query-string schema (validated like bodies: 422 naming `query.<field>`). */
function withQuery<
  R extends Parameters<typeof createRoute>[0],
  Q extends typeof HostSamplesQuery | typeof HostEventsQuery,
>(route: R, query: Q) {
  return createRoute({ ...route, request: { params: IdParam, query } });
}

export const hostRoutes = router()
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/hosts',
      summary:
        'Hosts of the organisation with status and the latest CPU, memory and disk figures, in name order: `limit` per page (default 100, at most 500), `cursor` from `nextCursor` for the next page, `q` to keep names containing it',
      tags,
      query: HostListQuery,
      response: HostList,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const tenantId = caller(c).tenantId;
      const database = db(c);
      const { rows, nextCursor } = await hostPage(database, tenantId, c.req.valid('query'));
      const latest = await latestSectionsOfHosts(
        database,
        tenantId,
        rows.map((h) => h.id),
        GLANCE_SECTIONS,
      );
      return c.json({ hosts: rows.map((h) => summarize(c, h, latest.get(h.id))), nextCursor }, 200);
    },
  )
  // Before `/hosts/{id}`, whose id pattern would otherwise claim "sparklines".
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/hosts/sparklines',
      summary:
        'Sparkline points (CPU, memory, network) of up to 200 hosts in one answer: `ids` comma-separated, `from`/`to` ISO 8601 (default the last 5 minutes, at most 15), at most 60 points per host, oldest first; ids that are not your hosts are left out',
      tags,
      query: HostSparklinesQuery,
      response: HostSparklines,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const query = c.req.valid('query');
      const range = resolveRange(query, {
        defaultSpanMs: DEFAULT_SPARKLINE_RANGE_MS,
        maxSpanMs: MAX_SPARKLINE_RANGE_MS,
      });
      const points = await sparklinePoints(db(c), {
        tenantId: caller(c).tenantId,
        hostIds: query.ids,
        ...range,
        maxPoints: MAX_SPARKLINE_POINTS,
      });
      return c.json(
        {
          from: range.from.toISOString(),
          to: range.to.toISOString(),
          hosts: [...points].map(([hostId, hostPoints]) => ({ hostId, points: hostPoints })),
        },
        200,
      );
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
      const host = await ownHost(c, id);
      const latest = (await latestSections(database, tenantId, { hostId: id })).get(id);
      return c.json(
        {
          ...summarize(c, host, latest),
          facts: host.facts,
          createdAt: host.createdAt.toISOString(),
          latest: latest ?? null,
          keyReplaceUntil: host.keyReplaceUntil?.toISOString() ?? null,
        },
        200,
      );
    },
  )
  .openapi(
    withQuery(
      jsonRoute({
        method: 'get',
        path: '/hosts/{id}/samples',
        summary:
          'Samples of one host from `from` to `to` (ISO 8601; default the last 5 minutes, at most 24 h), oldest first, at most 1000 points (a longer range is thinned evenly)',
        tags,
        params: IdParam,
        response: HostSamples,
        status: 200,
        middleware: [requireCaller('viewer')],
      }),
      HostSamplesQuery,
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
        subject: query.subject,
        limit: query.limit ?? DEFAULT_EVENTS_LIMIT,
      });
      return c.json({ hostId: host.id, from: range.from.toISOString(), to: range.to.toISOString(), events }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/hosts/{id}/revoke',
      summary:
        'Revoke a host for good (admins): its agent is refused with 403 `host_revoked` from its next push, and enrolling with its key answers the same; revoking again changes nothing. Audited',
      tags,
      params: IdParam,
      response: HostSummary,
      status: 200,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const who = caller(c);
      await revokeHost(db(c), { tenantId: who.tenantId, hostId: id, actor: actorOf(who) });
      await forgetLiveHost(c, who.tenantId, id);
      const host = await ownHost(c, id);
      const latest = (await latestSectionsOfHosts(db(c), who.tenantId, [id], GLANCE_SECTIONS)).get(id);
      return c.json(summarize(c, host, latest), 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/hosts/{id}/replace-key',
      summary:
        "Replace a host's key (admins), audited: with `publicKey` that key signs for the host from now on; without, the next enrollment of the host's machine with a new key takes the host over (within 24 h). 409 `host_revoked` for a revoked host, `public_key_in_use` for another host's key",
      tags,
      params: IdParam,
      body: ReplaceHostKeyRequest,
      response: HostKeyReplacement,
      status: 200,
      conflict: 'The host is revoked, or another host has that public key',
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const who = caller(c);
      const result = await replaceHostKey(db(c), {
        tenantId: who.tenantId,
        hostId: id,
        actor: actorOf(who),
        publicKey: c.req.valid('json').publicKey,
      });
      return c.json(
        { hostId: id, replaced: result.replaced, keyReplaceUntil: result.keyReplaceUntil?.toISOString() ?? null },
        200,
      );
    },
  )
  .openapi(
    jsonRoute({
      method: 'delete',
      path: '/hosts/{id}',
      summary:
        'Delete a host and its history (admins): it disappears from every read at once, its agent is refused (403 `host_revoked`), and its rows are purged in the background. Audited',
      tags,
      params: IdParam,
      response: AcceptedResponse,
      status: 200,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const who = caller(c);
      await deleteHost(db(c), { tenantId: who.tenantId, hostId: id, actor: actorOf(who) });
      await forgetLiveHost(c, who.tenantId, id);
      return c.json({ ok: true as const, message: 'Host deleted; its history is purged in the background' }, 200);
    },
  );
