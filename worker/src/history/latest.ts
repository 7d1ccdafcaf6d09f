import { MAX_TIMESTAMP_LEAD_MS, type Sample, SIGNATURE_WINDOW_MS } from '@pulsewire/protocol';
import { sql } from 'drizzle-orm';
import type { Queryable } from '../db/client.ts';
import { hostSamples, hosts } from '../db/schema.ts';

/**
 * How far back from a host's last report a section may come from. The agent sends slow sections less
 * often than every sample (filesystems once a minute), so "the latest values" of a host are the newest
 * value of each section, not the newest sample.
 */
export const LATEST_WINDOW = '5 minutes';

/**
 * The latest sample is bounded by now: ingest stores nothing stamped more than MAX_TIMESTAMP_LEAD_MS after a
 * signed timestamp, which is itself at most SIGNATURE_WINDOW_MS ahead of the Worker's clock. Anything later
 * (stored before that rule, e.g. a sample stamped 2099) would otherwise stay "latest" for good.
 */
export const LATEST_MAX_LEAD = `${SIGNATURE_WINDOW_MS + MAX_TIMESTAMP_LEAD_MS} milliseconds`;

/** Sections the host list's at-a-glance figures need. */
export const GLANCE_SECTIONS = ['cpu', 'memory', 'disks', 'load'] as const;

interface SectionRow extends Record<string, unknown> {
  host_id: string;
  key: string;
  value: unknown;
  ts: Date | string;
}

/**
 * Per host of the tenant (or of `hostId` only), a sample made of the newest value of each section
 * within {@link LATEST_WINDOW} of the host's last report and not after {@link LATEST_MAX_LEAD} from now; its
 * `ts` is the newest of them. One query:
 * the window walks the (host_id, ts) key from `hosts.last_seen_at`, and DISTINCT ON keeps one value per
 * (host, section).
 */
export async function latestSections(
  database: Queryable,
  tenantId: string,
  options: { hostId?: string; sections?: readonly string[] } = {},
): Promise<Map<string, Sample>> {
  const onlyHost = options.hostId ? sql`AND s.host_id = ${options.hostId}` : sql``;
  const onlySections = options.sections?.length
    ? sql`AND e.key IN (${sql.join(
        options.sections.map((section) => sql`${section}`),
        sql`, `,
      )})`
    : sql``;
  const result = await database.execute<SectionRow>(sql`
    SELECT DISTINCT ON (s.host_id, e.key) s.host_id, e.key, e.value, s.ts
    FROM ${hostSamples} s
    JOIN ${hosts} h ON h.id = s.host_id AND h.tenant_id = ${tenantId}
    CROSS JOIN LATERAL jsonb_each(s.sample) e
    WHERE s.tenant_id = ${tenantId}
      AND s.ts >= h.last_seen_at - ${LATEST_WINDOW}::interval
      AND s.ts <= now() + ${LATEST_MAX_LEAD}::interval
      ${onlyHost}
      ${onlySections}
    ORDER BY s.host_id, e.key, s.ts DESC`);
  const byHost = new Map<string, Sample>();
  for (const row of result.rows) {
    const ts = new Date(row.ts).getTime();
    const sample = byHost.get(row.host_id) ?? ({ ts } as Sample);
    (sample as Record<string, unknown>)[row.key] = row.value;
    sample.ts = Math.max(sample.ts, ts);
    byHost.set(row.host_id, sample);
  }
  return byHost;
}

/**
 * The newest value of each of `sections` for each of `hostIds` (the tenant's, not deleted), within
 * {@link LATEST_WINDOW} of the host's last report and not after {@link LATEST_MAX_LEAD} from now. For the
 * host list: per host and section, one backward walk of the (host_id, ts) key that stops at the first sample
 * carrying the section, so a page reads a handful of rows per host however many it has.
 */
export function latestSectionsOfHostsQuery(tenantId: string, hostIds: readonly string[], sections: readonly string[]) {
  return sql`
    SELECT h.id AS host_id, k.key, v.value, v.ts
    FROM ${hosts} h
    CROSS JOIN unnest(ARRAY[${sql.join(
      sections.map((section) => sql`${section}`),
      sql`, `,
    )}]::text[]) AS k(key)
    CROSS JOIN LATERAL (
      SELECT s.ts, s.sample -> k.key AS value
      FROM ${hostSamples} s
      WHERE s.host_id = h.id
        AND s.tenant_id = h.tenant_id
        AND s.ts >= h.last_seen_at - ${LATEST_WINDOW}::interval
        AND s.ts <= now() + ${LATEST_MAX_LEAD}::interval
        AND s.sample -> k.key IS NOT NULL
      ORDER BY s.ts DESC
      LIMIT 1
    ) v
    WHERE h.tenant_id = ${tenantId}
      AND h.deleted_at IS NULL
      AND h.id IN (${sql.join(
        hostIds.map((id) => sql`${id}::uuid`),
        sql`, `,
      )})`;
}

export async function latestSectionsOfHosts(
  database: Queryable,
  tenantId: string,
  hostIds: readonly string[],
  sections: readonly string[],
): Promise<Map<string, Sample>> {
  const byHost = new Map<string, Sample>();
  if (hostIds.length === 0 || sections.length === 0) return byHost;
  const result = await database.execute<SectionRow>(latestSectionsOfHostsQuery(tenantId, hostIds, sections));
  for (const row of result.rows) {
    const ts = new Date(row.ts).getTime();
    const sample = byHost.get(row.host_id) ?? ({ ts } as Sample);
    (sample as Record<string, unknown>)[row.key] = row.value;
    sample.ts = Math.max(sample.ts, ts);
    byHost.set(row.host_id, sample);
  }
  return byHost;
}
