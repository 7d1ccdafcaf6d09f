import { type CustomMetric, customPoints, type Sample, samplePoints, seriesKey } from '@pulsewire/protocol';
import { and, eq, gte, lt, sql } from 'drizzle-orm';
import type { Queryable } from '../db/queryable.ts';
import { customMetricPoints, historyRaw, hostSamples } from '../db/schema.ts';
import { type Chunk, decodeChunk, encodeChunk } from './chunk-codec.ts';
import { AVERAGE_SIGNIFICANT_DIGITS, chunkQuantum } from './precision.ts';
import { DAY_CHUNK_HOURS, HOUR_CHUNK_HOURS, rawChunkRows, upsertRawChunk } from './raw-chunks.ts';
import { seriesFamily } from './series-key.ts';

export const HOUR_MS = 3_600_000;

/** One host's hour to compact (the hour's start, UTC). */
export interface HostHour {
  tenantId: string;
  hostId: string;
  hour: number;
}

/** ts → series key → value, per family: the points of one chunk before encoding. */
export type FamilyPoints = Map<string, Map<number, Map<string, number>>>;

export function put(points: FamilyPoints, key: string, ts: number, value: number): void {
  const family = seriesFamily(key);
  const byTs = points.get(family) ?? new Map<number, Map<string, number>>();
  points.set(family, byTs);
  const values = byTs.get(ts) ?? new Map<string, number>();
  byTs.set(ts, values);
  values.set(key, value);
}

/** Every point of a decoded chunk into `points` (a later point at the same time and series wins). */
export function putChunk(points: FamilyPoints, chunk: Chunk): void {
  for (const column of chunk.columns) {
    column.values.forEach((value, i) => {
      if (!Number.isNaN(value)) put(points, column.name, chunk.timestamps[i] as number, value);
    });
  }
}

/** The points a family's chunk holds, as the codec takes them (a column per series, NaN where absent). */
export function chunkOf(byTs: Map<number, Map<string, number>>): Chunk {
  const timestamps = [...byTs.keys()].sort((a, b) => a - b);
  const keys = [...new Set([...byTs.values()].flatMap((values) => [...values.keys()]))].sort();
  const columns = keys.map((key) => {
    const values = new Float64Array(timestamps.length).fill(Number.NaN);
    timestamps.forEach((ts, i) => {
      const value = byTs.get(ts)?.get(key);
      if (value !== undefined) values[i] = value;
    });
    return { name: key, quantum: chunkQuantum(key, values), values };
  });
  return { timestamps, columns };
}

interface CustomRow {
  ts: Date;
  name: string;
  kind: CustomMetric['kind'];
  value: number;
  summary: Record<string, number> | null;
  labels: Record<string, string>;
}

/** A custom metric as the landing table holds it, back in the ingest shape. */
function metricOfRow(row: CustomRow): CustomMetric {
  const ts = row.ts.getTime();
  return (
    row.kind === 'histogram'
      ? { kind: 'histogram', name: row.name, labels: row.labels, ts, hist: row.summary }
      : { kind: row.kind, name: row.name, labels: row.labels, ts, value: row.value }
  ) as CustomMetric;
}

/** When a counter's interval cannot be told from its neighbours: the agent's default flush interval. */
const DEFAULT_COUNTER_INTERVAL_MS = 10_000;

/**
 * Custom metrics as stored series. Counters arrive as increments per flush and are kept as rates per second
 * (increment over the time since the series' previous point), so rollups and charts read the same whatever
 * the flush interval; histograms keep their summary (count, avg, min, max, percentiles) as one series each,
 * the average (sum / count, a full double) to AVERAGE_SIGNIFICANT_DIGITS, as rollup averages are.
 */
export function storedCustomPoints(metrics: readonly CustomMetric[]): { key: string; ts: number; value: number }[] {
  const out: { key: string; ts: number; value: number }[] = [];
  const previousCounterTs = new Map<string, number>();
  const sorted = [...metrics].sort((a, b) => a.ts - b.ts);
  for (const metric of sorted) {
    const { ts } = metric;
    for (const point of customPoints(metric)) {
      const key = seriesKey(point.metric, point.labels);
      let value = point.value;
      if (metric.kind === 'counter') {
        const previous = previousCounterTs.get(key);
        const interval = previous !== undefined && ts > previous ? ts - previous : DEFAULT_COUNTER_INTERVAL_MS;
        previousCounterTs.set(key, ts);
        value = value / (interval / 1000);
      } else if (metric.kind === 'histogram' && point.metric.endsWith('.avg')) {
        value = Number(value.toPrecision(AVERAGE_SIGNIFICANT_DIGITS));
      }
      out.push({ key, ts, value });
    }
  }
  return out;
}

/** One host's custom metric landing rows in [from, to). */
export function customRows(database: Queryable, host: { tenantId: string; hostId: string }, from: Date, to: Date) {
  return database
    .select({
      ts: customMetricPoints.ts,
      name: customMetricPoints.name,
      kind: customMetricPoints.kind,
      value: customMetricPoints.value,
      summary: customMetricPoints.summary,
      labels: customMetricPoints.labels,
    })
    .from(customMetricPoints)
    .where(
      and(
        eq(customMetricPoints.hostId, host.hostId),
        eq(customMetricPoints.tenantId, host.tenantId),
        gte(customMetricPoints.ts, from),
        lt(customMetricPoints.ts, to),
      ),
    );
}

/** The landing table's custom metric rows as stored series ({@link storedCustomPoints}). */
export function customRowPoints(rows: readonly CustomRow[]): { key: string; ts: number; value: number }[] {
  return storedCustomPoints(rows.map(metricOfRow));
}

export interface CompactionResult {
  chunks: number;
  points: number;
}

/**
 * Compacts one host's hour: its landing rows (samples and custom metric points), merged with the chunks
 * already holding that hour (a late replay adds to them; the landing rows win where both have a time), become
 * one chunk per family in `history_raw`, written whole: the hour's own chunks, or, once its day is folded into
 * a chunk per family (raw-days.ts), the day's. Idempotent: the same inputs give the same chunks. Rows of the
 * hour that sit in the default landing partitions are deleted once compacted (an hourly partition is dropped
 * whole later, by retention).
 */
export async function compactHostHour(database: Queryable, target: HostHour): Promise<CompactionResult> {
  const { tenantId, hostId, hour } = target;
  const from = new Date(hour);
  const to = new Date(hour + HOUR_MS);
  const samples = await database
    .select({ ts: hostSamples.ts, sample: hostSamples.sample })
    .from(hostSamples)
    .where(
      and(
        eq(hostSamples.hostId, hostId),
        eq(hostSamples.tenantId, tenantId),
        gte(hostSamples.ts, from),
        lt(hostSamples.ts, to),
      ),
    );
  const customs = await customRows(database, { tenantId, hostId }, from, to);
  const existing = await rawChunkRows(database, target, { from: hour, to: hour + HOUR_MS });
  // A folded day takes the hour into its chunks (whole: the day's other hours are kept as they are).
  const day = existing.find((row) => row.periodHours === DAY_CHUNK_HOURS);
  const period = day ? { start: day.periodStart, hours: DAY_CHUNK_HOURS } : { start: hour, hours: HOUR_CHUNK_HOURS };

  const points: FamilyPoints = new Map();
  for (const row of existing) putChunk(points, await decodeChunk(row.payload));
  for (const row of samples) {
    const ts = row.ts.getTime();
    for (const p of samplePoints({ ...(row.sample as Omit<Sample, 'ts'>), ts })) {
      put(points, seriesKey(p.metric, p.labels), ts, p.value);
    }
  }
  for (const p of customRowPoints(customs)) put(points, p.key, p.ts, p.value);

  const written = await writeRawChunks(database, { tenantId, hostId, hour: period.start }, points, period.hours);
  if (period.start !== hour && existing.some((row) => row.periodStart === hour)) {
    // An hour's chunk beside its folded day's (never written so, but merged above all the same): the day's holds it now.
    await database
      .delete(historyRaw)
      .where(and(eq(historyRaw.hostId, hostId), eq(historyRaw.tenantId, tenantId), eq(historyRaw.periodStart, from)));
  }
  // Only the default partitions: an hourly partition goes whole, when retention drops it.
  await database.execute(
    sql`DELETE FROM host_samples_default WHERE host_id = ${hostId} AND ts >= ${from.toISOString()} AND ts < ${to.toISOString()}`,
  );
  await database.execute(
    sql`DELETE FROM custom_metric_points_default WHERE host_id = ${hostId} AND ts >= ${from.toISOString()} AND ts < ${to.toISOString()}`,
  );
  return { chunks: points.size, points: written };
}

/**
 * One chunk per family of `points` for the host's period starting at `target.hour` (an hour, or with
 * `periodHours` 24 a closed day), written whole (replacing what the period had).
 */
export async function writeRawChunks(
  database: Queryable,
  target: HostHour,
  points: FamilyPoints,
  periodHours: number = HOUR_CHUNK_HOURS,
): Promise<number> {
  let written = 0;
  for (const [family, byTs] of points) {
    const payload = await encodeChunk(chunkOf(byTs));
    await upsertRawChunk(database, target, {
      family,
      periodStart: target.hour,
      periodHours,
      pointCount: byTs.size,
      payload,
    });
    written += byTs.size;
  }
  return written;
}
