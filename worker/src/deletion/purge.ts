import { and, asc, eq, isNotNull, isNull, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import {
  alertEvents,
  appEvents,
  auditLog,
  customMetricPoints,
  history1h,
  history1m,
  history15m,
  historyRaw,
  hostSamples,
  hosts,
  ingestBatches,
  notificationDeliveries,
  tenants,
} from '../db/schema.ts';

/** Rows one statement deletes at most, and statements one run issues at most (a cron run every 5 minutes). */
export const PURGE_CHUNK_ROWS = 5_000;
export const PURGE_MAX_STATEMENTS = 60;

export interface PurgeOptions {
  chunkRows?: number;
  maxStatements?: number;
}

export interface PurgeReport {
  rowsDeleted: number;
  hostsPurged: number;
  tenantsPurged: number;
  statements: number;
  /** Nothing deleted is left to purge (when false, the next run goes on where this one stopped). */
  done: boolean;
}

/**
 * One bounded chunk of a deleted host's or organisation's rows: the subquery finds at most `limit` of them by
 * an index on the owning column, the delete removes those by key. Each statement is short, whatever the
 * history, and runs on its own (no transaction spans chunks), so a purge never holds locks for long.
 */
type ChunkDelete = (owner: string, limit: number) => SQL;

const hostChunks: ChunkDelete[] = [
  (hostId, limit) => sql`
    DELETE FROM ${hostSamples} WHERE (host_id, ts) IN (
      SELECT host_id, ts FROM ${hostSamples} WHERE host_id = ${hostId} LIMIT ${limit})`,
  // No key, and partitioned (ctids repeat across partitions): (partition, physical row id) pairs, from the
  // (host_id, name, ts) index of each partition.
  (hostId, limit) => sql`
    DELETE FROM ${customMetricPoints} WHERE (tableoid, ctid) IN (
      SELECT tableoid, ctid FROM ${customMetricPoints} WHERE host_id = ${hostId} LIMIT ${limit})`,
  ...[historyRaw, history1m, history15m, history1h].map(
    (table): ChunkDelete =>
      (hostId, limit) =>
        sql`
        DELETE FROM ${table} WHERE (host_id, family, period_start) IN (
          SELECT host_id, family, period_start FROM ${table} WHERE host_id = ${hostId} LIMIT ${limit})`,
  ),
  (hostId, limit) => sql`
    DELETE FROM ${appEvents} WHERE (id, ts) IN (SELECT id, ts FROM ${appEvents} WHERE host_id = ${hostId} LIMIT ${limit})`,
  (hostId, limit) => sql`
    DELETE FROM ${ingestBatches} WHERE (host_id, batch_id) IN (
      SELECT host_id, batch_id FROM ${ingestBatches} WHERE host_id = ${hostId} LIMIT ${limit})`,
  (hostId, limit) => sql`
    DELETE FROM ${alertEvents} WHERE id IN (SELECT id FROM ${alertEvents} WHERE host_id = ${hostId} LIMIT ${limit})`,
];

/** An organisation's large tables not owned by a host; what remains (rules, channels, keys…) is small. */
const tenantChunks: ChunkDelete[] = [
  (tenantId, limit) => sql`
    DELETE FROM ${alertEvents} WHERE id IN (
      SELECT id FROM ${alertEvents} WHERE tenant_id = ${tenantId} LIMIT ${limit})`,
  (tenantId, limit) => sql`
    DELETE FROM ${notificationDeliveries} WHERE id IN (
      SELECT id FROM ${notificationDeliveries} WHERE tenant_id = ${tenantId} LIMIT ${limit})`,
  (tenantId, limit) => sql`
    DELETE FROM ${auditLog} WHERE id IN (SELECT id FROM ${auditLog} WHERE tenant_id = ${tenantId} LIMIT ${limit})`,
];

/** The least budget that guarantees progress: a host's tables, its row, and one chunk more. */
export const MIN_STATEMENTS = hostChunks.length + 2;

/**
 * Removes what `DELETE /hosts/:id` and `DELETE /organizations/current` marked deleted, oldest first, in
 * chunks of `chunkRows`, at most `maxStatements` (no fewer than {@link MIN_STATEMENTS}) statements per call. Idempotent and resumable: a run that
 * stops anywhere (budget, error, overlap with another run) leaves rows that the next run deletes. A host row
 * goes last, once its tables are empty, so its cascades find nothing; an organisation row goes once its hosts
 * and large tables are gone, and its cascades walk only small tables, each by an index.
 */
export async function purgeDeleted(database: Database, options: PurgeOptions = {}): Promise<PurgeReport> {
  const chunkRows = Math.max(1, Math.floor(options.chunkRows ?? PURGE_CHUNK_ROWS));
  const report: PurgeReport = { rowsDeleted: 0, hostsPurged: 0, tenantsPurged: 0, statements: 0, done: false };
  // Every run starts a host over from its first table, each emptied table costing one (cheap, empty)
  // statement: with room for all of them plus one, every run deletes something until nothing is left.
  const budget = Math.max(MIN_STATEMENTS, Math.floor(options.maxStatements ?? PURGE_MAX_STATEMENTS));
  const run = async (statement: SQL): Promise<number> => {
    report.statements++;
    const result = await database.execute(statement);
    const count = result.rowCount ?? 0;
    report.rowsDeleted += count;
    return count;
  };
  /** Deletes every chunk of `owner` in `chunks`, while the budget lasts; true when all are empty. */
  const drain = async (chunks: ChunkDelete[], owner: string): Promise<boolean> => {
    for (const chunk of chunks) {
      for (;;) {
        if (report.statements >= budget) return false;
        if ((await run(chunk(owner, chunkRows))) < chunkRows) break;
      }
    }
    return true;
  };

  while (report.statements < budget) {
    const [host] = await database
      .select({ id: hosts.id })
      .from(hosts)
      .where(isNotNull(hosts.deletedAt))
      .orderBy(asc(hosts.deletedAt), asc(hosts.id))
      .limit(1);
    if (host) {
      if (!(await drain(hostChunks, host.id))) break;
      if (report.statements >= budget) break;
      report.statements++;
      await database.delete(hosts).where(and(eq(hosts.id, host.id), isNotNull(hosts.deletedAt)));
      report.hostsPurged++;
      continue;
    }
    const [tenant] = await database
      .select({ id: tenants.id })
      .from(tenants)
      .where(isNotNull(tenants.deletedAt))
      .orderBy(asc(tenants.deletedAt), asc(tenants.id))
      .limit(1);
    if (!tenant) {
      report.done = true;
      break;
    }
    // A host enrolled while the deletion committed: deleted like the others, and purged first.
    report.statements++;
    const late = await database
      .update(hosts)
      .set({ deletedAt: sql`now()`, revokedAt: sql`coalesce(${hosts.revokedAt}, now())` })
      .where(and(eq(hosts.tenantId, tenant.id), isNull(hosts.deletedAt)))
      .returning({ id: hosts.id });
    if (late.length > 0) continue;
    if (!(await drain(tenantChunks, tenant.id))) break;
    if (report.statements >= budget) break;
    report.statements++;
    await database.delete(tenants).where(and(eq(tenants.id, tenant.id), isNotNull(tenants.deletedAt)));
    report.tenantsPurged++;
  }
  return report;
}
