import type { SparklinePoint } from '@pulsewire/protocol';
import { sql } from 'drizzle-orm';
import type { Queryable } from '../db/client.ts';
import { hostSamples, hosts } from '../db/schema.ts';
import type { TimeRange } from './range.ts';

export interface SparklinesRequest extends TimeRange {
  tenantId: string;
  hostIds: readonly string[];
  /** The most points per host; a host with more samples in the range is thinned evenly to this many. */
  maxPoints: number;
}

interface SparklineRow extends Record<string, unknown> {
  host_id: string;
  ts: Date | string;
  cpu: number | null;
  mem_used: number | null;
  mem_total: number | null;
  net: number | null;
}

/**
 * One query for the sparklines of many hosts: per host (the tenant's, not deleted), a walk of the
 * (host_id, ts) key over the range numbers its samples (timestamps only), keeps row i of n when
 * (i·max) mod n < max (exactly `max` rows spread evenly, as `seriesSamples` does), and only kept rows
 * read their jsonb, reduced to the three figures the list draws.
 */
export function sparklinesQuery(request: SparklinesRequest) {
  const max = Math.max(1, Math.floor(request.maxPoints));
  return sql`
    SELECT h.id AS host_id, p.ts,
      (p.sample -> 'cpu' ->> 'total')::float8 AS cpu,
      (p.sample -> 'memory' ->> 'used')::float8 AS mem_used,
      (p.sample -> 'memory' ->> 'total')::float8 AS mem_total,
      CASE WHEN jsonb_typeof(p.sample -> 'net') = 'array' THEN
        (SELECT coalesce(sum((n ->> 'rxBytesPerSec')::float8 + (n ->> 'txBytesPerSec')::float8), 0)
         FROM jsonb_array_elements(p.sample -> 'net') n)
      END AS net
    FROM ${hosts} h
    CROSS JOIN LATERAL (
      SELECT s.ts, s.sample
      FROM (
        SELECT r.ts, row_number() OVER (ORDER BY r.ts) - 1 AS i, count(*) OVER () AS n
        FROM ${hostSamples} r
        WHERE r.host_id = h.id AND r.tenant_id = h.tenant_id AND r.ts >= ${request.from} AND r.ts <= ${request.to}
      ) ranked
      JOIN ${hostSamples} s ON s.host_id = h.id AND s.ts = ranked.ts
      WHERE (ranked.i * ${max}) % ranked.n < ${max}
    ) p
    WHERE h.tenant_id = ${request.tenantId}
      AND h.deleted_at IS NULL
      AND h.id IN (${sql.join(
        request.hostIds.map((id) => sql`${id}::uuid`),
        sql`, `,
      )})
    ORDER BY h.id, p.ts`;
}

/** Points by host id, oldest first; hosts without samples in the range have none. */
export async function sparklinePoints(
  database: Queryable,
  request: SparklinesRequest,
): Promise<Map<string, SparklinePoint[]>> {
  const byHost = new Map<string, SparklinePoint[]>();
  if (request.hostIds.length === 0) return byHost;
  const result = await database.execute<SparklineRow>(sparklinesQuery(request));
  for (const row of result.rows) {
    const point: SparklinePoint = { ts: new Date(row.ts).getTime() };
    if (row.cpu !== null) point.cpu = Number(row.cpu);
    if (row.mem_used !== null && row.mem_total !== null) {
      point.memUsed = Number(row.mem_used);
      point.memTotal = Number(row.mem_total);
    }
    if (row.net !== null) point.net = Number(row.net);
    const points = byHost.get(row.host_id) ?? [];
    points.push(point);
    byHost.set(row.host_id, points);
  }
  return byHost;
}
