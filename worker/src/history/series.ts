import type { Sample } from '@pulsewire/protocol';
import { and, asc, between, eq, sql } from 'drizzle-orm';
import type { Queryable } from '../db/client.ts';
import { hostSamples } from '../db/schema.ts';
import type { TimeRange } from './range.ts';

export interface SeriesRequest extends TimeRange {
  tenantId: string;
  hostId: string;
  /** The most rows to return; a range holding more is thinned evenly to exactly this many. */
  maxPoints: number;
}

/**
 * The samples of one host in [from, to], oldest first, at most `maxPoints`. Reads the raw tier;
 * the history issue swaps this for a tier chosen from the range.
 *
 * Thinning happens in Postgres: a window numbers the rows of the range (timestamps only, from the
 * (host_id, ts) key), and row i of n is kept when (i·max) mod n < max, which keeps exactly `max`
 * rows spread evenly (the first of each of `max` equal buckets). Only kept rows fetch their jsonb.
 */
export async function seriesSamples(database: Queryable, request: SeriesRequest): Promise<Sample[]> {
  const { tenantId, hostId, from, to } = request;
  const max = Math.max(1, Math.floor(request.maxPoints));
  const ranked = database.$with('ranked').as(
    database
      .select({
        ts: sql<Date>`${hostSamples.ts}`.as('ranked_ts'),
        i: sql<string>`row_number() over (order by ${hostSamples.ts}) - 1`.as('i'),
        n: sql<string>`count(*) over ()`.as('n'),
      })
      .from(hostSamples)
      .where(
        and(eq(hostSamples.hostId, hostId), eq(hostSamples.tenantId, tenantId), between(hostSamples.ts, from, to)),
      ),
  );
  const rows = await database
    .with(ranked)
    .select({ ts: hostSamples.ts, sample: hostSamples.sample })
    .from(ranked)
    .innerJoin(hostSamples, and(eq(hostSamples.hostId, hostId), sql`${hostSamples.ts} = ${ranked.ts}`))
    .where(sql`(${ranked.i} * ${max}) % ${ranked.n} < ${max}`)
    .orderBy(asc(hostSamples.ts));
  return rows.map((row) => ({ ...(row.sample as Omit<Sample, 'ts'>), ts: row.ts.getTime() }));
}
