import { and, asc, eq, gt, gte, isNull, lt, sql } from 'drizzle-orm';
import type { Queryable } from '../db/queryable.ts';
import { historyJobs, historyLate, hosts } from '../db/schema.ts';
import { compactHostHour, HOUR_MS } from './compaction.ts';
import { mergeLegacyHourChunks } from './hour-tier-months.ts';
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
import { backfillQuarterHours } from './quarter-hour-backfill.ts';
import { HOUR_CHUNK_HOURS } from './raw-chunks.ts';
import { compactDayPartition, foldHostDay } from './raw-days.ts';
import { applyRetention, type RetentionReport } from './retention.ts';
import { DAY_MS, rollUpHostHour, rollUpHostHourAgain } from './rollup-job.ts';

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
  /** Hours rolled up into the 1-minute tier (a day's last one also closes the day into the 15-minute and 1-hour tiers). */
  hoursRolledUp: number;
  /** Closed days whose raw hours were folded into a chunk per family and day. */
  daysFolded: number;
  /** Days of a family rolled up before the 15-minute tier existed, given their 15-minute chunk (migration 0008). */
  quarterHourDaysBackfilled: number;
  /** Compaction has reached this hour start (epoch ms): everything before it is in chunks. */
  compactedUntil: number | null;
  rolledUpUntil: number | null;
  foldedUntil: number | null;
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

/**
 * Where folding starts when it never ran: the day of the oldest hour's raw chunk (a database from before
 * migration 0007 holds only those), or, with none, the day the roll-ups have reached.
 */
async function firstUnfoldedDay(database: Queryable, rolledUntil: number): Promise<number> {
  const result = await database.execute<{ oldest: string | Date | null }>(
    sql`SELECT min(period_start) AS oldest FROM history_raw WHERE period_hours = ${HOUR_CHUNK_HOURS}`,
  );
  const oldest = result.rows[0]?.oldest;
  return periodStart('day', oldest ? Math.min(new Date(oldest).getTime(), rolledUntil) : rolledUntil);
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

/** One run's allowance of host-hours, shared by the steps. */
interface Budget {
  left: number;
}

interface PeriodWalk {
  /** The `history_jobs` row holding how far the walk got and the host it stopped after. */
  job: string;
  /** An hour (compaction, roll-ups) or a day (folds). */
  periodMs: number;
  /** Where the walk starts when it never ran. */
  first: number;
  /** Periods ending at or before this are ready for the walk. */
  readyUntil: number;
  /** Before the hosts of a period (partitions the period writes into). */
  beforePeriod?: (start: number) => Promise<void>;
  step: (host: { id: string; tenantId: string }, start: number) => Promise<unknown>;
  /** Once every host of a period is done, before the walk moves past it. */
  afterPeriod?: (start: number) => Promise<void>;
}

/**
 * Walks closed periods oldest first, every active host of a period before the next period, remembering the
 * period and the last host done after each, so a run cut short by its budget resumes exactly there. Returns how
 * far it got (every period before is done for every host) and how many periods it finished.
 */
async function walkPeriods(
  database: Queryable,
  walk: PeriodWalk,
  budget: Budget,
): Promise<{ doneUntil: number; periods: number }> {
  const state = await readJob(database, walk.job);
  let doneUntil = state.doneUntil ?? walk.first;
  // First run: remember where the walk starts, for the runs that get there.
  if (state.doneUntil === null) await writeJob(database, walk.job, { doneUntil, hostCursor: null });
  let cursor = state.hostCursor;
  let periods = 0;
  while (budget.left > 0 && doneUntil + walk.periodMs <= walk.readyUntil) {
    const start: number = doneUntil;
    await walk.beforePeriod?.(start);
    const batch = await activeHostsSince(database, start, cursor, budget.left);
    for (const host of batch) {
      await walk.step(host, start);
      cursor = host.id;
      budget.left--;
    }
    if (batch.length === 0 || budget.left > 0) {
      await walk.afterPeriod?.(start);
      doneUntil = start + walk.periodMs;
      cursor = null;
      periods++;
    }
    await writeJob(database, walk.job, { doneUntil, hostCursor: cursor });
  }
  return { doneUntil, periods };
}

/**
 * The history jobs the cron trigger runs every 5 minutes (and tests or `pnpm dev` on demand): partitions
 * ahead, compaction of closed hours, late replays merged, closed hours rolled up (the open day's into 1-minute
 * chunks per hour and per six hours; a closing day into a 1-minute and a 15-minute chunk of the day and the
 * month's 1-hour chunk), closed days' raw hours folded into a raw chunk per day, retention. Each step does a
 * bounded amount of work and remembers where it stopped, so a run after downtime catches up over the next runs;
 * every step is idempotent, so a run cut short is simply done again.
 */
export async function runHistoryJobs(database: Queryable, options: HistoryJobOptions = {}): Promise<HistoryJobReport> {
  const now = options.now ?? Date.now();
  const budget: Budget = { left: options.budget ?? DEFAULT_RUN_BUDGET };
  const report: HistoryJobReport = {
    skipped: false,
    partitionsCreated: [],
    hoursCompacted: 0,
    lateMerged: 0,
    hoursRolledUp: 0,
    daysFolded: 0,
    quarterHourDaysBackfilled: 0,
    compactedUntil: null,
    rolledUpUntil: null,
    foldedUntil: null,
    retention: null,
    behind: false,
  };
  if (!(await acquireLease(database, now))) return { ...report, skipped: true };
  try {
    report.partitionsCreated = await maintainPartitions(database, now);

    // Compaction: closed hours (plus the grace for late batches), oldest first.
    const compactFirst = (await readJob(database, 'compact')).doneUntil ?? (await firstHour(database, now));
    const compacted = await walkPeriods(
      database,
      {
        job: 'compact',
        periodMs: HOUR_MS,
        first: compactFirst,
        readyUntil: now - COMPACTION_GRACE_MS,
        beforePeriod: (hour) => ensurePartitions(database, CHUNK_TABLES.raw, hour, hour + HOUR_MS).then(() => {}),
        step: (host, hour) => compactHostHour(database, { tenantId: host.tenantId, hostId: host.id, hour }),
      },
      budget,
    );
    const compactedUntil = compacted.doneUntil;
    report.hoursCompacted = compacted.periods;
    report.compactedUntil = compactedUntil;

    // The 1-hour tier's chunks were a day each before migration 0006: merge them into months first.
    const legacy = await mergeLegacyHourChunks(database, budget);
    if (!legacy.done) {
      report.behind = true;
      report.retention = await applyRetention(database, now, compactedUntil);
      return report;
    }

    // Where roll-ups stand: hours before it are in the 1-minute tier (and whole days in the 1-hour tier).
    const rollupState = await readJob(database, 'rollup');
    const rolledFrom = rollupState.doneUntil ?? periodStart('day', compactFirst);

    // Late replays: merge them into their hour's chunks, and roll that hour (or its closed day) up again.
    const late = await database
      .select({
        hostId: historyLate.hostId,
        hour: historyLate.hour,
        // As text: Postgres keeps microseconds, a Date only milliseconds, and the mark is deleted by equality.
        markedAt: sql<string>`${historyLate.markedAt}::text`,
        tenantId: hosts.tenantId,
      })
      .from(historyLate)
      .innerJoin(hosts, eq(hosts.id, historyLate.hostId))
      .where(lt(historyLate.hour, new Date(compactedUntil)))
      .orderBy(asc(historyLate.markedAt))
      .limit(Math.max(0, budget.left));
    for (const mark of late) {
      const hour = mark.hour.getTime();
      const target = { tenantId: mark.tenantId, hostId: mark.hostId, hour };
      await ensurePartitions(database, CHUNK_TABLES.raw, hour, hour + HOUR_MS);
      await compactHostHour(database, target);
      if (hour < rolledFrom) {
        await ensureRollupPartitions(database, hour);
        await rollUpHostHourAgain(database, target, rolledFrom);
      }
      await database
        .delete(historyLate)
        .where(
          and(
            eq(historyLate.hostId, mark.hostId),
            eq(historyLate.hour, mark.hour),
            sql`${historyLate.markedAt} = ${mark.markedAt}::timestamptz`,
          ),
        );
      report.lateMerged++;
      budget.left--;
    }

    // Roll-ups: each compacted hour into 1-minute chunks (its own, or its six hours'); a day's last closes the day.
    const rolled = await walkPeriods(
      database,
      {
        job: 'rollup',
        periodMs: HOUR_MS,
        first: rolledFrom,
        readyUntil: compactedUntil,
        beforePeriod: (hour) => ensureRollupPartitions(database, hour),
        step: (host, hour) => rollUpHostHour(database, { tenantId: host.tenantId, hostId: host.id, hour }),
      },
      budget,
    );
    report.hoursRolledUp = rolled.periods;
    report.rolledUpUntil = rolled.doneUntil;

    // Folds: each day closed and rolled up, its hours' raw chunks into a chunk per family (raw-days.ts).
    const folded = await walkPeriods(
      database,
      {
        job: 'fold',
        periodMs: DAY_MS,
        first: (await readJob(database, 'fold')).doneUntil ?? (await firstUnfoldedDay(database, rolled.doneUntil)),
        readyUntil: rolled.doneUntil,
        step: (host, day) => foldHostDay(database, { tenantId: host.tenantId, hostId: host.id, day }),
        afterPeriod: (day) => compactDayPartition(database, day),
      },
      budget,
    );
    report.daysFolded = folded.periods;
    report.foldedUntil = folded.doneUntil;
    // Days rolled up before the 15-minute tier existed: with what budget the roll-ups left.
    const backfill = await backfillQuarterHours(database, budget, rolled.doneUntil);
    report.quarterHourDaysBackfilled = backfill.days;
    report.behind = budget.left <= 0 || !backfill.done;

    report.retention = await applyRetention(database, now, compactedUntil);
    return report;
  } finally {
    await releaseLease(database);
  }
}

async function ensureRollupPartitions(database: Queryable, hour: number): Promise<void> {
  await ensurePartitions(database, CHUNK_TABLES['1m'], hour, hour + HOUR_MS);
  await ensurePartitions(database, CHUNK_TABLES['15m'], hour, hour + HOUR_MS);
  await ensurePartitions(database, CHUNK_TABLES['1h'], hour, hour + HOUR_MS);
}
