/**
 * History for the storage and history benchmarks: the synthetic reference host (@pulsewire/stack/synthetic)
 * at 10 s, written with the Worker's own modules (worker/src/history) into a scratch database, as ingest,
 * compaction and roll-ups would have written it.
 */
import { randomUUID } from 'node:crypto';
import type { SqlSession } from '@pulsewire/stack';
import { syntheticHourPoints } from '@pulsewire/stack/history-seed';
import { syntheticCustomMetrics, syntheticSample } from '@pulsewire/stack/synthetic';
import type { Queryable } from '../../worker/src/db/queryable.ts';
import { customMetricPoints, history1h, hostSamples } from '../../worker/src/db/schema.ts';
import { type Chunk, decodeChunk } from '../../worker/src/history/chunk-codec.ts';
import { type FamilyPoints, writeRawChunks } from '../../worker/src/history/compaction.ts';
import { CHUNK_TABLES, ensurePartitions, LANDING_TABLES } from '../../worker/src/history/partitions.ts';
import { compactDayPartition, foldHostDay } from '../../worker/src/history/raw-days.ts';
import { rerollup, withinRange } from '../../worker/src/history/rollup-chunk.ts';
import { DAY_MS, monthOf, rollUpHostHour, writeTierChunk } from '../../worker/src/history/rollup-job.ts';

export const HOUR_MS = 3_600_000;
/** The agent's default cadence. */
export const STEP_MS = 10_000;

/** The Worker's history modules take a drizzle handle typed for Neon's driver; node-postgres' runs the same SQL. */
export const queryable = (session: SqlSession): Queryable => session.db as unknown as Queryable;

export interface BenchHost {
  id: string;
  /** The synthetic host's seed: each host its own values. */
  seed: number;
}

export interface BenchTenant {
  tenantId: string;
  hosts: BenchHost[];
}

/** A tenant and `count` hosts with fixed ids, so the same rows can be written into several databases. */
export function benchTenant(count: number): BenchTenant {
  return {
    tenantId: randomUUID(),
    hosts: Array.from({ length: count }, (_, i) => ({ id: randomUUID(), seed: i + 1 })),
  };
}

export async function insertTenant(session: SqlSession, tenant: BenchTenant): Promise<void> {
  await session.client.query('INSERT INTO tenants (id, name, slug) VALUES ($1, $2, $3)', [
    tenant.tenantId,
    'bench',
    `bench-${tenant.tenantId.slice(0, 8)}`,
  ]);
  for (const host of tenant.hosts) {
    await session.client.query(
      `INSERT INTO hosts (id, tenant_id, name, machine_id, public_key, last_seen_at) VALUES ($1, $2, $3, $4, $5, now())`,
      [host.id, tenant.tenantId, `synthetic-${host.seed}`, `machine-${host.seed}`, `key-${host.id}`],
    );
  }
}

/** The 10 s timestamps of [from, to). */
export function* tenSecondTimes(from: number, to: number): Generator<number> {
  for (let ts = Math.ceil(from / STEP_MS) * STEP_MS; ts < to; ts += STEP_MS) yield ts;
}

export { syntheticHourPoints };

/** The series keys of a set of family points. */
export function seriesOf(points: FamilyPoints): string[] {
  const keys = new Set<string>();
  for (const byTs of points.values())
    for (const values of byTs.values()) for (const key of values.keys()) keys.add(key);
  return [...keys];
}

/** The landing rows of one host over [from, to), written as ingest writes them (worker/src/ingest/store.ts). */
export async function insertLanding(
  session: SqlSession,
  tenantId: string,
  host: BenchHost,
  from: number,
  to: number,
): Promise<void> {
  const database = queryable(session);
  for (const table of LANDING_TABLES) await ensurePartitions(database, table, from, to);
  // An hour at a time: the rows of one statement stay well under Postgres' 65,535 parameters.
  for (let start = from; start < to; start = Math.floor(start / HOUR_MS) * HOUR_MS + HOUR_MS) {
    const end = Math.min(to, Math.floor(start / HOUR_MS) * HOUR_MS + HOUR_MS);
    const times = [...tenSecondTimes(start, end)];
    if (times.length === 0) continue;
    await database.insert(hostSamples).values(
      times.map((ts) => {
        const { ts: _ts, ...sample } = syntheticSample(host.seed, ts);
        return { tenantId, hostId: host.id, ts: new Date(ts), sample: sample as Record<string, unknown> };
      }),
    );
    await database.insert(customMetricPoints).values(
      times.flatMap((ts) =>
        syntheticCustomMetrics(host.seed, ts).map((m) => ({
          tenantId,
          hostId: host.id,
          name: m.name,
          ts: new Date(m.ts),
          kind: m.kind,
          value: m.kind === 'histogram' ? m.hist.sum / m.hist.count : m.value,
          summary: m.kind === 'histogram' ? m.hist : null,
          labels: m.labels ?? {},
        })),
      ),
    );
  }
}

/** What was generated: values (one series at one time) and the distinct series keys. */
export interface Generated {
  values: number;
  series: Set<string>;
}

/** Raw chunks for each hour of [from, to) of one host, through the Worker's writeRawChunks. */
export async function writeRawHours(
  session: SqlSession,
  tenantId: string,
  host: BenchHost,
  from: number,
  to: number,
  generated: Generated = { values: 0, series: new Set() },
): Promise<Generated> {
  const database = queryable(session);
  await ensurePartitions(database, CHUNK_TABLES.raw, from, to);
  for (let hour = from; hour < to; hour += HOUR_MS) {
    const { points, values } = syntheticHourPoints(host.seed, hour);
    for (const key of seriesOf(points)) generated.series.add(key);
    generated.values += values;
    await writeRawChunks(database, { tenantId, hostId: host.id, hour }, points);
  }
  return generated;
}

/**
 * The Worker's roll-ups of one host's hours [from, to), as the jobs leave them: each day closed before `to`
 * rolled up whole (1-minute and 15-minute day chunks, the day into its month's 1-hour chunk), the open day's hours one by one
 * into its 1-minute chunk.
 */
export async function rollUpHours(
  session: SqlSession,
  tenantId: string,
  host: BenchHost,
  from: number,
  to: number,
): Promise<void> {
  const database = queryable(session);
  await ensurePartitions(database, CHUNK_TABLES['1m'], from, to);
  await ensurePartitions(database, CHUNK_TABLES['15m'], from, to);
  await ensurePartitions(database, CHUNK_TABLES['1h'], from, to);
  for (let hour = from; hour < to; hour += HOUR_MS) {
    const day = Math.floor(hour / DAY_MS) * DAY_MS;
    if (hour + HOUR_MS === day + DAY_MS || day + DAY_MS > to) {
      await rollUpHostHour(database, { tenantId, hostId: host.id, hour });
    }
  }
}

/**
 * Folds each day of [from, to) of every host into a raw chunk per family (the Worker's foldHostDay), then
 * rewrites the day's partition (compactDayPartition), as the jobs do once a day is closed and rolled up: `to`
 * is the first day left as hours.
 */
export async function foldDays(session: SqlSession, tenant: BenchTenant, from: number, to: number): Promise<void> {
  const database = queryable(session);
  for (let day = Math.floor(from / DAY_MS) * DAY_MS; day + DAY_MS <= to; day += DAY_MS) {
    for (const host of tenant.hosts) await foldHostDay(database, { tenantId: tenant.tenantId, hostId: host.id, day });
    await compactDayPartition(database, day);
  }
}

interface ChunkRow {
  tenant_id: string;
  host_id: string;
  family: string;
  period_start: Date;
  /** Raw chunks only (an hour's or a folded day's); the rollup tiers have no such column. */
  period_hours: number;
  point_count: number;
  payload: Buffer;
}

const isRaw = (table: string) => table === CHUNK_TABLES.raw.name;

async function insertChunkRows(session: SqlSession, table: string, rows: readonly ChunkRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    const batch = rows.slice(i, i + 200);
    const hours = isRaw(table) ? ', period_hours' : '';
    await session.client.query(
      `INSERT INTO ${table} (tenant_id, host_id, family, period_start, point_count, payload${hours})
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::int[], $6::bytea[]${hours ? ', $7::smallint[]' : ''})
       ON CONFLICT (host_id, family, period_start) DO UPDATE SET point_count = excluded.point_count, payload = excluded.payload${hours ? ', period_hours = excluded.period_hours' : ''}`,
      [
        batch.map((row) => row.tenant_id),
        batch.map((row) => row.host_id),
        batch.map((row) => row.family),
        batch.map((row) => row.period_start.toISOString()),
        batch.map((row) => row.point_count),
        // Hex text, as the Worker's schema writes bytea, so every driver and the PGlite socket agree.
        batch.map((row) => `\\x${Buffer.from(row.payload).toString('hex')}`),
        ...(hours ? [batch.map((row) => row.period_hours)] : []),
      ],
    );
  }
}

async function selectChunkRows(
  session: SqlSession,
  table: string,
  from: number,
  to: number,
  family?: string,
): Promise<ChunkRow[]> {
  const { rows } = await session.client.query<ChunkRow>(
    `SELECT tenant_id, host_id, family, period_start, point_count, payload${isRaw(table) ? ', period_hours' : ''} FROM ${table}
     WHERE period_start >= $1 AND period_start < $2 AND ($3::text IS NULL OR family = $3)
     ORDER BY period_start, host_id, family`,
    [new Date(from).toISOString(), new Date(to).toISOString(), family ?? null],
  );
  return rows;
}

/**
 * Fills the 1-hour tier over the days [from, to) with the 1-hour buckets of the whole days [sourceFrom,
 * sourceTo) over and over, moved to their new days, into month chunks encoded by the Worker's codec (merged
 * with a month's chunk already there): a year of 1-hour chunks of realistic size without generating a year of
 * samples.
 */
export async function repeatHourTier(
  session: SqlSession,
  tenantId: string,
  hostId: string,
  source: { from: number; to: number },
  from: number,
  to: number,
): Promise<number> {
  const database = queryable(session);
  const rows = await selectChunkRows(session, CHUNK_TABLES['1h'].name, monthOf(source.from), source.to);
  const byFamily = new Map<string, Chunk[]>();
  for (const row of rows) {
    const chunks = byFamily.get(row.family) ?? [];
    chunks.push(await decodeChunk(new Uint8Array(row.payload)));
    byFamily.set(row.family, chunks);
  }
  const sourceDays = Math.round((source.to - source.from) / DAY_MS);
  await ensurePartitions(database, CHUNK_TABLES['1h'], from, to);
  let written = 0;
  for (const [family, chunks] of byFamily) {
    const all = rerollup(chunks, HOUR_MS);
    const months = new Map<number, Chunk[]>();
    for (let day = from; day < to; day += DAY_MS) {
      const sourceDay = source.from + (Math.round((day - from) / DAY_MS) % sourceDays) * DAY_MS;
      const slice = withinRange(all, sourceDay, sourceDay + DAY_MS);
      const moved = { ...slice, timestamps: slice.timestamps.map((ts) => ts + day - sourceDay) };
      const month = monthOf(day);
      months.set(month, [...(months.get(month) ?? []), moved]);
    }
    for (const [month, days] of months) {
      const target = { tenantId, hostId, family, period: month };
      const [existing] = await selectChunkRows(session, CHUNK_TABLES['1h'].name, month, month + 1, family);
      const kept = existing ? [await decodeChunk(new Uint8Array(existing.payload))] : [];
      await writeTierChunk(database, history1h, target, rerollup([...kept, ...days], HOUR_MS));
      written++;
    }
  }
  return written;
}

/**
 * Copies the chunks of `tier` with a period start in [from, to) from one database to another, byte for byte:
 * what the Worker's code wrote into the first is what the second measures, without generating it twice.
 */
export async function copyChunks(
  source: SqlSession,
  target: SqlSession,
  tier: keyof typeof CHUNK_TABLES,
  from: number,
  to: number,
): Promise<number> {
  const table = CHUNK_TABLES[tier];
  const rows = await selectChunkRows(source, table.name, from, to);
  if (rows.length === 0) return 0;
  const starts = rows.map((row) => row.period_start.getTime());
  await ensurePartitions(queryable(target), table, Math.min(...starts), Math.max(...starts) + 1);
  await insertChunkRows(target, table.name, rows);
  return rows.length;
}
