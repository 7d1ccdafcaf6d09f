import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Queryable } from '../db/queryable.ts';
import { hosts, tenants } from '../db/schema.ts';
import type { TierRetention } from './plan.ts';
import type { Watermarks } from './query.ts';
import { DEFAULT_RETENTION_DAYS } from './retention.ts';

/**
 * What a history request needs before it reads chunks: the host (the caller's organisation's, not deleted),
 * the organisation's retention per tier, and where the jobs stand. One round trip, not three: on Neon each
 * is a network hop, a large part of a short chart's time.
 */
export interface HistoryContext {
  retention: TierRetention;
  watermarks: Watermarks;
}

/** A job's watermark as epoch ms (text, so every driver hands it over alike), null when the job never ran. */
const watermark = (name: 'compact' | 'rollup', alias: string) =>
  sql<
    string | null
  >`(SELECT (extract(epoch FROM done_until) * 1000)::bigint::text FROM history_jobs WHERE name = ${name})`.as(alias);
const compactedUntil = watermark('compact', 'compacted_until');
const rolledUpUntil = watermark('rollup', 'rolled_up_until');

/** The organisation's retention per tier: its own where it lowered it, the defaults otherwise. */
export function tierRetention(row: { raw: number | null; m: number | null; h: number | null } | undefined) {
  const lower = (own: number | null | undefined, fallback: number) => Math.min(own ?? fallback, fallback);
  return {
    raw: lower(row?.raw, DEFAULT_RETENTION_DAYS.raw),
    '1m': lower(row?.m, DEFAULT_RETENTION_DAYS['1m']),
    '1h': lower(row?.h, DEFAULT_RETENTION_DAYS['1h']),
  };
}

/** The watermarks as `readWatermarks` gives them, from the two jobs' epoch-ms values. */
export function watermarksOf(compacted: string | null, rolled: string | null): Watermarks {
  const compactedUntilMs = compacted === null ? 0 : Number(compacted);
  return {
    compactedUntil: compactedUntilMs,
    rolledUpUntil: Math.min(rolled === null ? 0 : Number(rolled), compactedUntilMs),
  };
}

const columns = {
  raw: tenants.retentionRawDays,
  m: tenants.retention1mDays,
  h: tenants.retention1hDays,
  compactedUntil,
  rolledUpUntil,
};

/** The organisation's history context (retention, watermarks), for requests over several hosts. */
export async function tenantHistoryContext(database: Queryable, tenantId: string): Promise<HistoryContext> {
  const [row] = await database.select(columns).from(tenants).where(eq(tenants.id, tenantId));
  return {
    retention: tierRetention(row),
    watermarks: watermarksOf(row?.compactedUntil ?? null, row?.rolledUpUntil ?? null),
  };
}

/** One host's history context with the host itself, or null when the organisation has no such host. */
export async function hostHistoryContext(
  database: Queryable,
  tenantId: string,
  hostId: string,
): Promise<(HistoryContext & { host: { id: string; tenantId: string; name: string } }) | null> {
  const [row] = await database
    .select({ id: hosts.id, tenantId: hosts.tenantId, name: hosts.name, ...columns })
    .from(hosts)
    .innerJoin(tenants, eq(tenants.id, hosts.tenantId))
    .where(and(eq(hosts.id, hostId), eq(hosts.tenantId, tenantId), isNull(hosts.deletedAt)))
    .limit(1);
  if (!row) return null;
  return {
    host: { id: row.id, tenantId: row.tenantId, name: row.name },
    retention: tierRetention(row),
    watermarks: watermarksOf(row.compactedUntil, row.rolledUpUntil),
  };
}
