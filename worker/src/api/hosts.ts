import { glanceOf, HostDetail, HostList, hostStatus, type Sample } from '@pulsewire/protocol';
import { and, asc, desc, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { caller, requireCaller } from '../auth/caller.ts';
import { hostSamples, hosts } from '../db/schema.ts';
import { parseConfig } from '../env.ts';
import type { AppEnv } from '../http/app-env.ts';
import { db } from '../http/database.ts';
import { notFound } from '../http/errors.ts';
import { jsonRoute, router } from '../http/route.ts';
import { IdParam } from './params.ts';

const tags = ['hosts'];

type HostRow = typeof hosts.$inferSelect;
type SampleRow = typeof hostSamples.$inferSelect;

const toSample = (row: SampleRow): Sample => ({ ...(row.sample as Omit<Sample, 'ts'>), ts: row.ts.getTime() });

function summarize(c: Context<AppEnv>, host: HostRow, latest: SampleRow | undefined) {
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
    glance: latest ? glanceOf(toSample(latest)) : null,
  };
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
      // The newest sample of every host in one query (DISTINCT ON walks the (host_id, ts) primary key).
      const latest = await database
        .selectDistinctOn([hostSamples.hostId])
        .from(hostSamples)
        .where(eq(hostSamples.tenantId, tenantId))
        .orderBy(hostSamples.hostId, desc(hostSamples.ts));
      const byHost = new Map(latest.map((s) => [s.hostId, s]));
      return c.json({ hosts: rows.map((h) => summarize(c, h, byHost.get(h.id))) }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/hosts/{id}',
      summary: 'One host: facts, labels, status and the newest sample of every collector',
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
      const [latest] = await database
        .select()
        .from(hostSamples)
        .where(and(eq(hostSamples.hostId, id), eq(hostSamples.tenantId, tenantId)))
        .orderBy(desc(hostSamples.ts))
        .limit(1);
      return c.json(
        {
          ...summarize(c, host, latest),
          facts: host.facts,
          createdAt: host.createdAt.toISOString(),
          latest: latest ? toSample(latest) : null,
        },
        200,
      );
    },
  );
