import { type HistoryTier, metricDefinition, type SeriesPoint, samplePoints, seriesKey } from '@pulsewire/protocol';
import { and, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import type { Queryable } from '../db/queryable.ts';
import { history1h, history1m, history15m, historyJobs, hostSamples } from '../db/schema.ts';
import { type Buckets, bucketize } from './bucketize.ts';
import { type Chunk, decodeChunk } from './chunk-codec.ts';
import { chunkOf, customRowPoints, customRows } from './compaction.ts';
import { landingColumns, sampleFieldsOf } from './landing-fields.ts';
import { chunkQuantum } from './precision.ts';
import { decodeRawHours, rawChunkRows } from './raw-chunks.ts';
import { HOUR_MS, parseRollupColumnName, withoutRange } from './rollup-chunk.ts';
import { DAY_MS, monthOf } from './rollup-job.ts';
import { parseSeriesKey, seriesFamily, seriesPath } from './series-key.ts';

export type Tier = HistoryTier;

/**
 * The most of a range read from landing rows (jsonb) rather than chunks. Compaction keeps the open part to
 * about an hour; when the jobs fall further behind, older uncompacted hours are left out (and the answer
 * says so) rather than one request scanning raw rows over a long range.
 */
export const MAX_LANDING_READ_MS = 6 * 3_600_000;

/** What one chart asks for: series of one host over [from, to) in buckets of `stepMs`, read from `tier`. */
export interface HistoryRequest {
  tenantId: string;
  hostId: string;
  /** Exact series keys (`disk.used_pct{mount="/"}`) or metric paths (`disk.used_pct`: every mount). */
  series: readonly string[];
  from: number;
  to: number;
  stepMs: number;
  tier: Tier;
}

/** Where the jobs stand: what is in raw chunks (hours before `compactedUntil`) and rollups (days before). */
export interface Watermarks {
  compactedUntil: number;
  rolledUpUntil: number;
}

export async function readWatermarks(database: Queryable): Promise<Watermarks> {
  const rows = await database
    .select()
    .from(historyJobs)
    .where(inArray(historyJobs.name, ['compact', 'rollup']));
  const of = (name: string) => rows.find((row) => row.name === name)?.doneUntil?.getTime() ?? 0;
  const compactedUntil = of('compact');
  return { compactedUntil, rolledUpUntil: Math.min(of('rollup'), compactedUntil) };
}

/** Whether a series key answers a requested entry (the key itself, or its metric path). */
function matches(requested: readonly string[], key: string): boolean {
  const path = seriesPath(key);
  return requested.includes(key) || requested.includes(path);
}

/** Rollup chunks of one tier with a period start in [from, to), without their points at or after `before`. */
interface TierSpan {
  table: typeof history1m | typeof history15m | typeof history1h;
  from: number;
  to: number;
  before: number;
}

/**
 * The chunks of `families` in each span, decoded, in one round trip (a week's chart reads the 15-minute tier's
 * closed days and the open day's 1-minute chunks: on PGlite, in the Worker's process, a query costs ~2 ms before
 * it reads anything). Points at or after a span's `before` are dropped: a tier chunk may already hold the hour
 * or day the jobs are working on for this host while the watermark still sends that span to the finer source.
 */
async function readChunks(
  database: Queryable,
  request: HistoryRequest,
  families: string[],
  spans: readonly TierSpan[],
): Promise<{ chunks: Chunk[]; bytes: number }> {
  const read = families.length === 0 ? [] : spans.filter((span) => span.from < span.to);
  const selects = read.map(({ table, from, to }, part) =>
    database
      .select({ part: sql<number>`${part}::int`.as('part'), periodStart: table.periodStart, payload: table.payload })
      .from(table)
      .where(
        and(
          eq(table.hostId, request.hostId),
          eq(table.tenantId, request.tenantId),
          inArray(table.family, families),
          gte(table.periodStart, new Date(from)),
          lt(table.periodStart, new Date(to)),
        ),
      ),
  );
  const [first, second, ...rest] = selects;
  if (!first) return { chunks: [], bytes: 0 };
  const rows = await (second ? unionAll(first, second, ...rest) : first);
  // Span by span, oldest first: the order the points are summed in, so answers do not depend on the plan.
  rows.sort((a, b) => a.part - b.part || a.periodStart.getTime() - b.periodStart.getTime());
  // Only the columns of the asked series are decoded (a family chunk holds many; names are `key|stat`), and
  // every chunk of a family names the same columns: each name is looked at once.
  const asked = new Map<string, boolean>();
  const columns = (name: string) => {
    let wanted = asked.get(name);
    if (wanted === undefined) {
      wanted = matches(request.series, parseRollupColumnName(name)?.key ?? name);
      asked.set(name, wanted);
    }
    return wanted;
  };
  const chunks = await Promise.all(
    rows.map(async (row) => {
      const chunk = await decodeChunk(row.payload, { columns });
      return withoutRange(chunk, (read[row.part] as TierSpan).before, Number.POSITIVE_INFINITY);
    }),
  );
  return { chunks, bytes: rows.reduce((sum, row) => sum + row.payload.byteLength, 0) };
}

/**
 * The raw points of the asked series in the hours overlapping [from, to), a chunk per stored chunk: an hour's
 * chunk, or the part of a closed day's chunk in those hours (raw-chunks.ts), so a range reads the same points
 * before and after its day is folded.
 */
async function readRawChunks(
  database: Queryable,
  request: HistoryRequest,
  families: string[],
  span: { from: number; to: number },
): Promise<{ chunks: Chunk[]; bytes: number }> {
  const rows = await rawChunkRows(database, request, span, families);
  const columns = (name: string) => matches(request.series, name);
  const chunks = await Promise.all(rows.map((row) => decodeRawHours(row, span, { columns })));
  return { chunks, bytes: rows.reduce((sum, row) => sum + row.payload.byteLength, 0) };
}

/**
 * The landing rows of [from, to) (hours compaction has not reached), as raw chunks: of each sample only the
 * fields the asked series are computed from (landing-fields.ts), and custom metric points when `custom` is
 * asked. Every chart ending now reads these, so the work per row is kept small: the sample is detoasted (and
 * decompressed) once per row rather than once per section, Postgres sends a few numbers rather than whole
 * sections, and the points go straight into columns indexed by row.
 */
async function readLanding(
  database: Queryable,
  request: HistoryRequest,
  families: string[],
  from: number,
  to: number,
): Promise<{ chunks: Chunk[]; bytes: number }> {
  if (from >= to) return { chunks: [], bytes: 0 };
  const chunks: Chunk[] = [];
  let bytes = 0;
  const sections = sampleFieldsOf(request.series.filter((name) => families.includes(seriesFamily(name))));
  if (sections.size > 0) {
    const landing = landingColumns(sections);
    const { rows } = await database.execute<Record<string, unknown> & { ms: number | string }>(sql`
      SELECT (extract(epoch FROM ${hostSamples.ts}) * 1000)::float8 AS ms, ${landing.select(sql.raw('detoasted.sample'))}
      FROM ${hostSamples}, LATERAL (SELECT ${hostSamples.sample} - '{}'::text[] AS sample OFFSET 0) AS detoasted
      WHERE ${hostSamples.hostId} = ${request.hostId} AND ${hostSamples.tenantId} = ${request.tenantId}
        AND ${hostSamples.ts} >= ${new Date(from).toISOString()}::timestamptz
        AND ${hostSamples.ts} < ${new Date(to).toISOString()}::timestamptz
      ORDER BY ${hostSamples.ts}`);
    const timestamps = rows.map((row) => Number(row.ms));
    // Series key → its column (null: a key the request does not ask for), a value per row, NaN where absent.
    const columns = new Map<string, Float64Array | null>();
    rows.forEach((row, i) => {
      const sample = landing.cut(row);
      bytes += JSON.stringify(sample).length;
      for (const p of samplePoints({ ...sample, ts: timestamps[i] as number })) {
        const key = seriesKey(p.metric, p.labels);
        let values = columns.get(key);
        if (values === undefined) {
          values = matches(request.series, key) ? new Float64Array(rows.length).fill(Number.NaN) : null;
          columns.set(key, values);
        }
        if (values) values[i] = p.value;
      }
    });
    const kept = [...columns].filter((entry): entry is [string, Float64Array] => entry[1] !== null);
    if (kept.length > 0) {
      chunks.push({
        timestamps,
        columns: kept
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([name, values]) => ({ name, quantum: chunkQuantum(name, values), values })),
      });
    }
  }
  if (families.includes('custom')) {
    const rows = await customRows(database, request, new Date(from), new Date(to));
    bytes += JSON.stringify(rows).length;
    const byTs = new Map<number, Map<string, number>>();
    for (const p of customRowPoints(rows)) {
      if (!matches(request.series, p.key)) continue;
      const values = byTs.get(p.ts) ?? new Map<string, number>();
      byTs.set(p.ts, values);
      values.set(p.key, p.value);
    }
    if (byTs.size > 0) chunks.push(chunkOf(byTs));
  }
  return { chunks, bytes };
}

export interface HistorySources {
  /** 1-minute or 1-hour rollup chunks (rollup-chunk.ts column names), for the days already rolled up. */
  rollups: Chunk[];
  /** Raw chunks: compacted hours, then the open hours from the landing rows. */
  raw: Chunk[];
  bytesRead: number;
  /** Part of the range is neither compacted nor read (the history jobs are behind). */
  incomplete: boolean;
}

/**
 * The tiers whose chunks hold closed days only, each with the start of the chunk holding a time: the 15-minute
 * tier's chunk is a day, the 1-hour tier's a month (of whole days).
 */
const CLOSED_DAY_TIERS = {
  '15m': { table: history15m, chunkStart: (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS },
  '1h': { table: history1h, chunkStart: monthOf },
} as const;

/**
 * The chunks one request reads. The range splits at the jobs' watermarks: hours already rolled up come from
 * the tier's chunks (1 min: a chunk per closed day, and per closed hour or six hours of the open day; 15 min: a
 * chunk per closed day, and the open day from the 1-minute tier; 1 h: a chunk per month holding whole days,
 * and the open day from the 1-minute tier), hours compacted since from raw chunks, and the open hours from the
 * landing rows. So a long range never reads raw data, and the newest minutes are there before compaction.
 */
export async function readSources(
  database: Queryable,
  request: HistoryRequest,
  watermarks: Watermarks,
): Promise<HistorySources> {
  const families = [...new Set(request.series.map(seriesFamily))];
  const { from, to } = request;
  const rolled = request.tier === 'raw' ? from : Math.min(Math.max(from, watermarks.rolledUpUntil), to);
  const compacted = Math.min(Math.max(rolled, watermarks.compactedUntil), to);

  // The three reads do not depend on each other, so they are issued together: on one connection the driver
  // sends each query as the previous one's rows arrive, and the chunks of the first are decoded while the
  // database runs the next (the landing read, the slowest, is mostly the database's time), rather than the
  // database and this isolate waiting on each other in turn. The sources are put together in the same order.
  const readRollups = (): Promise<{ chunks: Chunk[]; bytes: number }> => {
    if (request.tier === '15m' || request.tier === '1h') {
      // Whole days from the tier's chunks; the rest of what is rolled up (the open day) at 1 minute.
      const { table, chunkStart } = CLOSED_DAY_TIERS[request.tier];
      const days = Math.max(from, Math.floor(rolled / DAY_MS) * DAY_MS);
      return readChunks(database, request, families, [
        ...(days > from ? [{ table, from: chunkStart(from), to: days, before: days }] : []),
        { table: history1m, from: Math.floor(days / DAY_MS) * DAY_MS, to: rolled, before: rolled },
      ]);
    }
    if (request.tier === '1m') {
      return readChunks(database, request, families, [
        { table: history1m, from: Math.floor(from / DAY_MS) * DAY_MS, to: rolled, before: rolled },
      ]);
    }
    return Promise.resolve({ chunks: [], bytes: 0 });
  };
  const landingFrom = Math.max(compacted, to - MAX_LANDING_READ_MS);
  const [rollups, raw, landing] = await Promise.all([
    readRollups(),
    readRawChunks(database, request, families, { from: Math.floor(rolled / HOUR_MS) * HOUR_MS, to: compacted }),
    readLanding(database, request, families, landingFrom, to),
  ]);
  return {
    rollups: rollups.chunks,
    raw: [...raw.chunks, ...landing.chunks],
    bytesRead: rollups.bytes + raw.bytes + landing.bytes,
    incomplete: landingFrom > compacted,
  };
}

/** The series keys in `sources` that answer the request, plus every exact key asked (drawn empty if absent). */
export function answeringKeys(request: HistoryRequest, sources: HistorySources): string[] {
  const keys = new Set<string>();
  for (const name of request.series) if (name.includes('{')) keys.add(name);
  for (const chunk of sources.raw) {
    for (const column of chunk.columns) if (matches(request.series, column.name)) keys.add(column.name);
  }
  for (const chunk of sources.rollups) {
    for (const column of chunk.columns) {
      const parsed = parseRollupColumnName(column.name);
      if (parsed && matches(request.series, parsed.key)) keys.add(parsed.key);
    }
  }
  return [...keys].sort();
}

export interface HistoryAnswer extends Buckets {
  bytesRead: number;
  incomplete: boolean;
}

/** One chart's buckets: min/avg/max per step-aligned bucket of every series answering the request. */
export async function readHistory(
  database: Queryable,
  request: HistoryRequest,
  watermarks: Watermarks,
): Promise<HistoryAnswer> {
  const sources = await readSources(database, request, watermarks);
  const buckets = bucketize(
    { raw: sources.raw, rollup: sources.rollups },
    { from: request.from, to: request.to, stepMs: request.stepMs, keys: answeringKeys(request, sources) },
  );
  return { ...buckets, bytesRead: sources.bytesRead, incomplete: sources.incomplete };
}

/** Whether a requested entry names a series Pulsewire has (a catalog path, with or without labels, or custom). */
export function isKnownSeries(name: string): boolean {
  return metricDefinition(seriesPath(name)) !== null;
}

/**
 * Each series' bucket averages over [from, to) at most `maxPoints` per series, as plain points (empty buckets
 * left out): what rules evaluated from history (forecast, anomaly) read, from whichever tier the range needs.
 */
export async function seriesPoints(
  database: Queryable,
  request: Omit<HistoryRequest, 'stepMs' | 'tier'> & { maxPoints: number },
  plan: (query: { from: string; to: string; maxPoints: number }) => {
    from: number;
    to: number;
    stepMs: number;
    tier: Tier;
  },
  watermarks?: Watermarks,
): Promise<Map<string, { ts: number; value: number }[]>> {
  const planned = plan({
    from: new Date(request.from).toISOString(),
    to: new Date(request.to).toISOString(),
    maxPoints: request.maxPoints,
  });
  const answer = await readHistory(
    database,
    { ...request, ...planned },
    watermarks ?? (await readWatermarks(database)),
  );
  const out = new Map<string, { ts: number; value: number }[]>();
  for (const [key, buckets] of answer.series) {
    const points: { ts: number; value: number }[] = [];
    buckets.avg.forEach((value, i) => {
      if (value !== null) points.push({ ts: (answer.timestamps[i] as number) + planned.stepMs / 2, value });
    });
    out.set(key, points);
  }
  return out;
}

/**
 * The points of the named series over [from, to) at full resolution (raw chunks and open hours), grouped by
 * collection time, oldest first: what a rule preview replays through the alert engine.
 */
export async function rawObservations(
  database: Queryable,
  request: Omit<HistoryRequest, 'stepMs' | 'tier'>,
  watermarks: Watermarks,
): Promise<{ ts: number; points: SeriesPoint[] }[]> {
  const sources = await readSources(database, { ...request, stepMs: 1_000, tier: 'raw' }, watermarks);
  const byTs = new Map<number, SeriesPoint[]>();
  for (const chunk of sources.raw) {
    for (const column of chunk.columns) {
      if (!matches(request.series, column.name)) continue;
      const { metric, labels } = parseSeriesKey(column.name);
      column.values.forEach((value, i) => {
        const ts = chunk.timestamps[i] as number;
        if (Number.isNaN(value) || ts < request.from || ts >= request.to) return;
        const points = byTs.get(ts) ?? [];
        points.push({ metric, labels, value });
        byTs.set(ts, points);
      });
    }
  }
  return [...byTs].sort(([a], [b]) => a - b).map(([ts, points]) => ({ ts, points }));
}
