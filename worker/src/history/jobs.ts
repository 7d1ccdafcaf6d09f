import { and, asc, eq, gt, gte, isNull, lt, sql } from 'drizzle-orm';
import type { Queryable } from '../db/queryable.ts';
import { historyJobs, historyLate, hosts } from '../db/schema.ts';
import { compactHostHour, HOUR_MS } from './compaction.ts';
import { COMPACTION_GRACE_MS } from './late.ts';
import {
  CHUNK_TABLES,
  EVENTS_TABLE,
  ensurePartitions,
  LANDING_TABLES,
  nextPeriod,
  type PartitionedTable,
  periodStart,
} from './partitions.ts';
import { applyRetention, type RetentionReport } from './retention.ts';
import { DAY_MS, rollUpHostDay } from './rollups.ts';

/** How long a run holds the jobs' lease; a crashed run's lease expires and the next cron run goes on. */
const LEASE_MS = 4 * 60_000;
/** Host-periods (an hour compacted, a day rolled up) one run does at most; the rest waits for the next run. */
export const DEFAULT_RUN_BUDGET = 400;

export interface HistoryJobOptions {
  /** The clock (tests run the jobs "later" by passing it). */
  now?: number;
  budget?: number;
}

export interface HistoryJobReport {
  /** Another run held the lease: this one did nothing. */
  skipped: boolean;
  partitionsCreated: string[];
  hoursCompacted: number;
  lateMerged: number;
  daysRolledUp: number;
  /** Compaction has reached this hour start (epoch ms): everything before it is in chunks. */
  compactedUntil: number | null;
  rolledUpUntil: number | null;
  retention: RetentionReport | null;
  /** More work is waiting than one run's budget allowed. */
  behind: boolean;
}

interface JobState {
  doneUntil: number | null;
  hostCursor: string | null;
}

async function readJob(database: Queryable, name: string): Promise<JobState> {
  const [row] = await database.select().from(historyJobs).where(eq(historyJobs.name, name));
  return { doneUntil: row?.doneUntil?.getTime() ?? null, hostCursor: row?.hostCursor ?? null };
}

async function writeJob(database: Queryable, name: string, state: JobState): Promise<void> {
  const values = {
    doneUntil: state.doneUntil === null ? null : new Date(state.doneUntil),
    hostCursor: state.hostCursor,
  };
  await database
    .insert(historyJobs)
    .values({ name, ...values })
    .onConflictDoUpdate({ target: historyJobs.name, set: values });
}

async function acquireLease(database: Queryable, now: number): Promise<boolean> {
  const until = new Date(now + LEASE_MS);
  const rows = await database
    .insert(historyJobs)
    .values({ name: 'lease', leaseUntil: until })
    .onConflictDoUpdate({
      target: historyJobs.name,
      set: { leaseUntil: until },
      setWhere: sql`${historyJobs.leaseUntil} IS NULL OR ${historyJobs.leaseUntil} < ${new Date(now).toISOString()}`,
    })
    .returning({ name: historyJobs.name });
  return rows.length > 0;
}

async function releaseLease(database: Queryable): Promise<void> {
  await database.update(historyJobs).set({ leaseUntil: null }).where(eq(historyJobs.name, 'lease'));
}

/** The hosts that may have data at or after `since`, after `cursor`, by id; deleted hosts are left to the purge. */
async function activeHostsSince(database: Queryable, since: number, cursor: string | null, limit: number) {
  return database
    .select({ id: hosts.id, tenantId: hosts.tenantId })
    .from(hosts)
    .where(
      and(gte(hosts.lastSeenAt, new Date(since)), isNull(hosts.deletedAt), cursor ? gt(hosts.id, cursor) : undefined),
    )
    .orderBy(asc(hosts.id))
    .limit(limit);
}

/** Where compaction starts when it never ran: the oldest landing row's hour, or the last closed hour. */
async function firstHour(database: Queryable, now: number): Promise<number> {
  const result = await database.execute<{ oldest: string | Date | null }>(sql`
    SELECT least((SELECT min(ts) FROM host_samples), (SELECT min(ts) FROM custom_metric_points)) AS oldest`);
  const oldest = result.rows[0]?.oldest;
  const fallback = periodStart('hour', now - COMPACTION_GRACE_MS) - HOUR_MS;
  return oldest ? Math.min(periodStart('hour', new Date(oldest).getTime()), fallback) : fallback;
}

/** The partitions the next hours will write into: landing hours ahead, the current and next chunk periods. */
async function maintainPartitions(database: Queryable, now: number): Promise<string[]> {
  const created: string[] = [];
  const ahead = (table: PartitionedTable, periods: number) => {
    let end = periodStart(table.granularity, now);
    for (let i = 0; i <= periods; i++) end = nextPeriod(table.granularity, end);
    return ensurePartitions(database, table, now, end);
  };
  for (const table of LANDING_TABLES) created.push(...(await ahead(table, 3)));
  for (const table of Object.values(CHUNK_TABLES)) created.push(...(await ahead(table, 1)));
  created.push(...(await ahead(EVENTS_TABLE, 1)));
  return created;
}

/**
 * The history jobs the cron trigger runs every 5 minutes (and tests or `pnpm dev` on demand): partitions
 * ahead, compaction of closed hours, late replays merged, closed days rolled up, retention. Each step does a
 * bounded amount of work and remembers where it stopped, so a run after downtime catches up over the next
 * runs; every step is idempotent, so a run cut short is simply done again.
 */
export async function runHistoryJobs(database: Queryable, options: HistoryJobOptions = {}): Promise<HistoryJobReport> {
  const now = options.now ?? Date.now();
  let budget = options.budget ?? DEFAULT_RUN_BUDGET;
  const report: HistoryJobReport = {
    skipped: false,
    partitionsCreated: [],
    hoursCompacted: 0,
    lateMerged: 0,
    daysRolledUp: 0,
    compactedUntil: null,
    rolledUpUntil: null,
    retention: null,
    behind: false,
  };
  if (!(await acquireLease(database, now))) return { ...report, skipped: true };
  try {
    report.partitionsCreated = await maintainPartitions(database, now);

    // Compaction: closed hours, oldest first, all active hosts of an hour before the next hour.
    const compact = await readJob(database, 'compact');
    let compactedUntil = compact.doneUntil ?? (await firstHour(database, now));
    const compactedFrom = compactedUntil;
    let cursor = compact.hostCursor;
    while (budget > 0 && compactedUntil + HOUR_MS + COMPACTION_GRACE_MS <= now) {
      const hour: number = compactedUntil;
      await ensurePartitions(database, CHUNK_TABLES.raw, hour, hour + HOUR_MS);
      const batch = await activeHostsSince(database, hour, cursor, budget);
      for (const host of batch) {
        await compactHostHour(database, { tenantId: host.tenantId, hostId: host.id, hour });
        cursor = host.id;
        budget--;
      }
      if (batch.length === 0 || budget > 0) {
        compactedUntil = hour + HOUR_MS;
        cursor = null;
        report.hoursCompacted++;
      }
      await writeJob(database, 'compact', { doneUntil: compactedUntil, hostCursor: cursor });
    }
    report.compactedUntil = compactedUntil;

    // Roll-ups: days whose every hour is compacted.
    const rollupJob = await readJob(database, 'rollup');
    let rolledUntil = rollupJob.doneUntil ?? periodStart('day', compactedFrom);
    let dayCursor = rollupJob.hostCursor;
    // First run: remember where roll-ups start, for the runs that get there.
    if (rollupJob.doneUntil === null) await writeJob(database, 'rollup', { doneUntil: rolledUntil, hostCursor: null });
    const rolledFrom = rolledUntil;

    // Late replays: merge them into their hour's chunks, and roll their day up again if it was.
    const late = await database
      .select({
        hostId: historyLate.hostId,
        hour: historyLate.hour,
        markedAt: historyLate.markedAt,
        tenantId: hosts.tenantId,
      })
      .from(historyLate)
      .innerJoin(hosts, eq(hosts.id, historyLate.hostId))
      .where(lt(historyLate.hour, new Date(compactedUntil)))
      .orderBy(asc(historyLate.markedAt))
      .limit(Math.max(0, budget));
    for (const mark of late) {
      const hour = mark.hour.getTime();
      await ensurePartitions(database, CHUNK_TABLES.raw, hour, hour + HOUR_MS);
      await compactHostHour(database, { tenantId: mark.tenantId, hostId: mark.hostId, hour });
      const day = periodStart('day', hour);
      if (day < rolledFrom) {
        await ensureRollupPartitions(database, day);
        await rollUpHostDay(database, { tenantId: mark.tenantId, hostId: mark.hostId, day });
      }
      await database
        .delete(historyLate)
        .where(
          and(
            eq(historyLate.hostId, mark.hostId),
            eq(historyLate.hour, mark.hour),
            eq(historyLate.markedAt, mark.markedAt),
          ),
        );
      report.lateMerged++;
      budget--;
    }

    while (budget > 0 && rolledUntil + DAY_MS <= compactedUntil) {
      const day: number = rolledUntil;
      await ensureRollupPartitions(database, day);
      const batch = await activeHostsSince(database, day, dayCursor, budget);
      for (const host of batch) {
        await rollUpHostDay(database, { tenantId: host.tenantId, hostId: host.id, day });
        dayCursor = host.id;
        budget--;
      }
      if (batch.length === 0 || budget > 0) {
        rolledUntil = day + DAY_MS;
        dayCursor = null;
        report.daysRolledUp++;
      }
      await writeJob(database, 'rollup', { doneUntil: rolledUntil, hostCursor: dayCursor });
    }
    report.rolledUpUntil = rolledUntil;
    report.behind = budget <= 0;

    report.retention = await applyRetention(database, now, compactedUntil);
    return report;
  } finally {
    await releaseLease(database);
  }
}

async function ensureRollupPartitions(database: Queryable, day: number): Promise<void> {
  await ensurePartitions(database, CHUNK_TABLES['1m'], day, day + DAY_MS);
  await ensurePartitions(database, CHUNK_TABLES['1h'], day, day + DAY_MS);
}
