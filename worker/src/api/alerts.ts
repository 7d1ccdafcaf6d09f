import { Alert, AlertList, AlertQuery } from '@pulsewire/protocol';
import { and, desc, eq, gte, inArray, isNull, lt, ne, type SQL, sql } from 'drizzle-orm';
import type { z } from 'zod';
import { caller, requireCaller, sessionCaller } from '../auth/caller.ts';
import type { Queryable } from '../db/client.ts';
import { alertEvents, hosts, users } from '../db/schema.ts';
import { db } from '../http/database.ts';
import { HttpError, notFound } from '../http/errors.ts';
import { jsonRoute, router } from '../http/route.ts';
import { alertAcknowledged } from './alert-config.ts';
import { IdParam } from './params.ts';

const tags = ['alerts'];
const ACTIVE_STATES = ['pending', 'firing', 'stale'] as const;

/**
 * Pages are ordered by (started_at, id), newest first; the cursor is the last row's position. Postgres
 * keeps microseconds, which a JavaScript Date would round away, so the position travels as integer
 * microseconds since the epoch and is compared exactly.
 */
const positionMicros = sql<string>`(extract(epoch from ${alertEvents.startedAt}) * 1000000)::bigint::text`;

function encodeCursor(micros: string, id: string): string {
  return btoa(`${micros}.${id}`).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeCursor(cursor: string): { micros: string; id: string } {
  let text = '';
  try {
    text = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    // falls through to the refusal below
  }
  const match = /^(\d{1,17})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(text);
  if (!match)
    throw new HttpError(422, 'validation_failed', 'query.cursor: not a cursor from a previous page', {
      path: 'query.cursor',
    });
  return { micros: match[1] as string, id: match[2] as string };
}

const selection = {
  event: alertEvents,
  hostName: hosts.name,
  ackName: users.name,
  ackEmail: users.email,
  position: positionMicros,
};

function alertsQuery(database: Queryable, where: SQL | undefined) {
  return database
    .select(selection)
    .from(alertEvents)
    .leftJoin(hosts, and(eq(hosts.id, alertEvents.hostId), eq(hosts.tenantId, alertEvents.tenantId)))
    .leftJoin(users, eq(users.id, alertEvents.acknowledgedBy))
    .where(where);
}

type AlertRow = Awaited<ReturnType<typeof alertsQuery>>[number];

function presentAlert({ event: e, hostName, ackName, ackEmail }: AlertRow): z.infer<typeof Alert> {
  return {
    id: e.id,
    ruleId: e.ruleId,
    ruleName: e.ruleName,
    hostId: e.hostId,
    hostName: hostName ?? null,
    series: e.seriesKey,
    labels: e.labels,
    level: e.level,
    state: e.state,
    value: e.value,
    peak: e.peak,
    threshold: e.threshold,
    message: e.message,
    startedAt: e.startedAt.toISOString(),
    firedAt: e.firedAt?.toISOString() ?? null,
    resolvedAt: e.resolvedAt?.toISOString() ?? null,
    acknowledgedAt: e.acknowledgedAt?.toISOString() ?? null,
    acknowledgedBy: e.acknowledgedAt ? (ackName ?? ackEmail ?? null) : null,
    silenced: e.silenced,
  };
}

async function ownAlert(database: Queryable, tenantId: string, id: string): Promise<AlertRow> {
  const [row] = await alertsQuery(database, and(eq(alertEvents.id, id), eq(alertEvents.tenantId, tenantId))).limit(1);
  if (!row) throw notFound('No such alert');
  return row;
}

export const alertRoutes = router()
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/alerts',
      summary:
        'Alerts, newest first: `view=active` (pending, firing, stale) or `history` (resolved); filters on level, host, rule and start time (`from` ≤ startedAt < `to`); `cursor` from `nextCursor` for the next page',
      tags,
      query: AlertQuery,
      response: AlertList,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const q = c.req.valid('query');
      const filters: (SQL | undefined)[] = [
        eq(alertEvents.tenantId, caller(c).tenantId),
        q.view === 'active' ? inArray(alertEvents.state, [...ACTIVE_STATES]) : eq(alertEvents.state, 'resolved'),
        q.level ? eq(alertEvents.level, q.level) : undefined,
        q.hostId ? eq(alertEvents.hostId, q.hostId) : undefined,
        q.ruleId ? eq(alertEvents.ruleId, q.ruleId) : undefined,
        q.from ? gte(alertEvents.startedAt, new Date(q.from)) : undefined,
        q.to ? lt(alertEvents.startedAt, new Date(q.to)) : undefined,
      ];
      if (q.cursor) {
        const after = decodeCursor(q.cursor);
        filters.push(
          sql`(${alertEvents.startedAt}, ${alertEvents.id}) < (timestamptz 'epoch' + ${after.micros}::bigint * interval '1 microsecond', ${after.id}::uuid)`,
        );
      }
      const rows = await alertsQuery(db(c), and(...filters))
        .orderBy(desc(alertEvents.startedAt), desc(alertEvents.id))
        .limit(q.limit + 1);
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      const nextCursor = rows.length > q.limit && last ? encodeCursor(last.position, last.event.id) : null;
      return c.json({ alerts: page.map(presentAlert), nextCursor }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/alerts/{id}',
      summary: 'One alert',
      tags,
      params: IdParam,
      response: Alert,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => c.json(presentAlert(await ownAlert(db(c), caller(c).tenantId, c.req.valid('param').id)), 200),
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/alerts/{id}/ack',
      summary:
        'Acknowledge an open alert: re-notifying stops. Any member may (not API keys); acknowledging again changes nothing',
      tags,
      params: IdParam,
      response: Alert,
      status: 200,
      conflict: '`alert_resolved`: the alert is already resolved',
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const who = sessionCaller(c);
      const database = db(c);
      const now = new Date();
      const [acked] = await database
        .update(alertEvents)
        .set({ acknowledgedAt: now, acknowledgedBy: who.userId, updatedAt: now })
        .where(
          and(
            eq(alertEvents.id, id),
            eq(alertEvents.tenantId, who.tenantId),
            isNull(alertEvents.acknowledgedAt),
            ne(alertEvents.state, 'resolved'),
          ),
        )
        .returning({ id: alertEvents.id });
      const row = await ownAlert(database, who.tenantId, id);
      if (!acked && !row.event.acknowledgedAt) {
        throw new HttpError(409, 'alert_resolved', 'This alert is resolved; there is nothing to acknowledge');
      }
      if (acked) await alertAcknowledged(c, who.tenantId, id);
      return c.json(presentAlert(row), 200);
    },
  );
