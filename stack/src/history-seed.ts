/**
 * Synthetic history written as compaction and roll-ups would have written it — raw chunks per hour, 1-minute
 * and 15-minute chunks per day, 1-hour chunks per month — with the Worker's own code, straight into the database. `pnpm seed:history`
 * runs it against the local stack; browser tests seed a host with it.
 */
import { type CustomMetric, samplePoints, seriesKey } from '@pulsewire/protocol';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Queryable } from '../../worker/src/db/queryable.ts';
import { type FamilyPoints, put, storedCustomPoints, writeRawChunks } from '../../worker/src/history/compaction.ts';
import { CHUNK_TABLES, ensurePartitions } from '../../worker/src/history/partitions.ts';
import { foldHostDay } from '../../worker/src/history/raw-days.ts';
import { DAY_MS, rollUpHostHour } from '../../worker/src/history/rollup-job.ts';
import { syntheticCustomMetrics, syntheticSample } from './synthetic/index.ts';

export const HOUR_MS = 3_600_000;
export { DAY_MS };

const STEP_MS = 10_000;

export interface SeedHistoryOptions {
  tenantId: string;
  hostId: string;
  /** Whole hours [start, end) of 10 s samples (epoch ms, hour-aligned). */
  start: number;
  end: number;
  /**
   * Hours before this are rolled up here (the roll-up watermark); later hours are the jobs', so nothing is
   * rolled up twice.
   */
  rolledFrom: number;
  /** The synthetic host's seed: the same seed gives the same values. */
  seed?: number;
  /** Called after each day rolled up. */
  onDay?: (day: number) => void;
}

/**
 * One synthetic host's hour at 10 s as compaction would have collected it: every series of its samples and of
 * its custom metrics (counters as rates, histogram averages to their precision, as compaction stores them),
 * by family, and how many values that is.
 */
export function syntheticHourPoints(seed: number, hour: number): { points: FamilyPoints; values: number } {
  const points: FamilyPoints = new Map();
  const metrics: CustomMetric[] = [];
  let values = 0;
  for (let ts = hour; ts < hour + HOUR_MS; ts += STEP_MS) {
    for (const p of samplePoints(syntheticSample(seed, ts))) {
      put(points, seriesKey(p.metric, p.labels), ts, p.value);
      values++;
    }
    metrics.push(...syntheticCustomMetrics(seed, ts));
  }
  for (const p of storedCustomPoints(metrics)) {
    put(points, p.key, p.ts, p.value);
    values++;
  }
  return { points, values };
}

/** Seeds [start, end) for one host; returns the days rolled up. */
export async function seedHistory(database: Queryable, options: SeedHistoryOptions): Promise<number> {
  const { tenantId, hostId, start, end, rolledFrom, seed = 1 } = options;
  const target = { tenantId, hostId };
  let days = 0;
  for (let hour = start; hour < end; hour += HOUR_MS) {
    if (hour % DAY_MS === 0) await ensurePartitions(database, CHUNK_TABLES.raw, hour, hour + DAY_MS);
    const { points } = syntheticHourPoints(seed, hour);
    await ensurePartitions(database, CHUNK_TABLES.raw, hour, hour + HOUR_MS);
    await writeRawChunks(database, { ...target, hour }, points);
    const day = Math.floor(hour / DAY_MS) * DAY_MS;
    // Hours before the roll-up watermark are never rolled up by the jobs: done here, a closed day once its last
    // hour is in (the day's tiers from its raw chunks), the open day's hours one by one as the jobs do.
    const closesDay = hour + HOUR_MS === day + DAY_MS;
    if (hour < rolledFrom && (closesDay || day + DAY_MS > rolledFrom)) {
      await ensurePartitions(database, CHUNK_TABLES['1m'], day, day + DAY_MS);
      await ensurePartitions(database, CHUNK_TABLES['15m'], day, day + DAY_MS);
      await ensurePartitions(database, CHUNK_TABLES['1h'], day, day + DAY_MS);
      await rollUpHostHour(database, { ...target, hour });
      if (closesDay) {
        // And its raw hours folded into a chunk per family, as the jobs leave a closed day.
        await foldHostDay(database, { ...target, day });
        days++;
        options.onDay?.(day);
      }
    }
  }
  return days;
}

/** Where the stack's jobs stand (`history_jobs`): seeded history ends where compaction has reached. */
export async function seedBounds(
  query: (sql: string) => Promise<{ rows: { name: string; done_until: Date | null }[] }>,
  days: number,
  now = Date.now(),
): Promise<{ start: number; end: number; rolledFrom: number }> {
  const marks = await query("SELECT name, done_until FROM history_jobs WHERE name IN ('compact', 'rollup')");
  const mark = (name: string) => marks.rows.find((row) => row.name === name)?.done_until?.getTime();
  const end = mark('compact') ?? Math.floor(now / HOUR_MS) * HOUR_MS - HOUR_MS;
  const rolledFrom = mark('rollup') ?? Math.floor(end / DAY_MS) * DAY_MS;
  const start = Math.floor((end - days * DAY_MS) / HOUR_MS) * HOUR_MS;
  return { start, end, rolledFrom };
}

/**
 * Seeds `days` of history for one host of the database at `databaseUrl`, ending where the stack's compaction
 * has reached (run the jobs first: `POST /api/v1/dev/jobs/run`). Returns the seeded range.
 */
export async function seedHostHistory(
  databaseUrl: string,
  options: { hostId: string; days: number; seed?: number; onDay?: (day: number) => void },
): Promise<{ start: number; end: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const found = await client.query<{ tenant_id: string }>('SELECT tenant_id FROM hosts WHERE id = $1', [
      options.hostId,
    ]);
    const tenantId = found.rows[0]?.tenant_id;
    if (!tenantId) throw new Error(`no host ${options.hostId}`);
    const bounds = await seedBounds((sql) => client.query(sql), options.days);
    await seedHistory(drizzle({ client }) as unknown as Queryable, {
      tenantId,
      hostId: options.hostId,
      ...bounds,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.onDay ? { onDay: options.onDay } : {}),
    });
    return { start: bounds.start, end: bounds.end };
  } finally {
    await client.end();
  }
}
