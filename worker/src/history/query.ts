import {
  type HistoryTier,
  metricDefinition,
  type SeriesPoint,
  seriesKey,
  visitSamplePoints,
} from '@pulsewire/protocol';
import { and, eq, gte, inArray, lt, type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import type { Queryable } from '../db/queryable.ts';
import {
  bytesFromDriver,
  history1h,
  history1m,
  history15m,
  historyJobs,
  historyRaw,
  hostSamples,
} from '../db/schema.ts';
import { type Buckets, bucketize } from './bucketize.ts';
import { type Chunk, decodeChunk } from './chunk-codec.ts';
import { chunkOf, customRowPoints, customRows } from './compaction.ts';
import { type LandingColumns, landingColumns, sampleFieldsOf } from './landing-fields.ts';
import { chunkQuantum } from './precision.ts';
import { decodeRawHours, rawChunkCondition } from './raw-chunks.ts';
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
 * A row of a chart's one query: a tier chunk (`part` < the spans read), a raw chunk (`part` = RAW_PART) or a
 * landing row (LANDING_PART, with the fields `f0`, `f1`, … of landing-fields.ts). `ms`: the chunk's period start,
 * or the sample's time.
 */
interface SourceRow extends Record<string, unknown> {
  part: number;
  ms: number | string;
  hours: number | null;
  payload: string | Uint8Array | null;
}
const RAW_PART = 100;
const LANDING_PART = 101;

const epochMs = (column: SQLWrapper) => sql`(extract(epoch FROM ${column}) * 1000)::float8`;

/**
 * The custom metric points of [from, to) (hours compaction has not reached), as a raw chunk: a query of their
 * own, only when a custom series is asked.
 */
async function readLandingCustom(
  database: Queryable,
  request: HistoryRequest,
  from: number,
  to: number,
): Promise<{ chunks: Chunk[]; bytes: number }> {
  const rows = await customRows(database, request, new Date(from), new Date(to));
  const bytes = JSON.stringify(rows).length;
  const byTs = new Map<number, Map<string, number>>();
  for (const p of customRowPoints(rows)) {
    if (!matches(request.series, p.key)) continue;
    const values = byTs.get(p.ts) ?? new Map<string, number>();
    byTs.set(p.ts, values);
    values.set(p.key, p.value);
  }
  return { chunks: byTs.size > 0 ? [chunkOf(byTs)] : [], bytes };
}

/**
 * The landing rows' points (in time order), a column per asked series key, as a raw chunk. Of each sample only
 * the fields the asked series are computed from were read (landing-fields.ts); the points go straight into
 * columns indexed by row.
 */
function landingChunk(
  request: HistoryRequest,
  rows: readonly SourceRow[],
  landing: LandingColumns,
): { chunk: Chunk | null; bytes: number } {
  let bytes = 0;
  const timestamps = rows.map((row) => Number(row.ms));
  // Series key → its column (null: a key the request does not ask for), a value per row, NaN where absent.
  const columns = new Map<string, Float64Array | null>();
  // Each row gives the same few series: their keys are built once, not per value, and the values are visited
  // rather than collected as points (per row, the points and their label objects were most of what it allocated).
  const keys = new Map<string, { label: string; byValue: Map<string | undefined, string> }>();
  const keyOf = (metric: string, label: string | undefined, labelValue: string | undefined): string => {
    if (label === undefined) return metric;
    let known = keys.get(metric);
    if (known === undefined) {
      known = { label, byValue: new Map() };
      keys.set(metric, known);
    }
    // A metric's series are told apart by one label, always the same one.
    if (known.label !== label) return seriesKey(metric, { [label]: labelValue as string });
    let key = known.byValue.get(labelValue);
    if (key === undefined) {
      key = seriesKey(metric, { [label]: labelValue as string });
      known.byValue.set(labelValue, key);
    }
    return key;
  };
  let i = 0;
  const visit = (metric: string, value: number, label?: string, labelValue?: string) => {
    const key = keyOf(metric, label, labelValue);
    let values = columns.get(key);
    if (values === undefined) {
      values = matches(request.series, key) ? new Float64Array(rows.length).fill(Number.NaN) : null;
      columns.set(key, values);
    }
    if (values) values[i] = value;
  };
  for (; i < rows.length; i++) {
    const sample = landing.cut(rows[i] as SourceRow);
    bytes += JSON.stringify(sample).length;
    visitSamplePoints(sample, visit);
  }
  const kept = [...columns].filter((entry): entry is [string, Float64Array] => entry[1] !== null);
  if (kept.length === 0) return { chunk: null, bytes };
  return {
    chunk: {
      timestamps,
      columns: kept
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, values]) => ({ name, quantum: chunkQuantum(name, values), values })),
    },
    bytes,
  };
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
  const landingFrom = Math.max(compacted, to - MAX_LANDING_READ_MS);

  const tierSpans: TierSpan[] = [];
  if (request.tier === '15m' || request.tier === '1h') {
    // Whole days from the tier's chunks; the rest of what is rolled up (the open day) at 1 minute.
    const { table, chunkStart } = CLOSED_DAY_TIERS[request.tier];
    const days = Math.max(from, Math.floor(rolled / DAY_MS) * DAY_MS);
    if (days > from) tierSpans.push({ table, from: chunkStart(from), to: days, before: days });
    tierSpans.push({ table: history1m, from: Math.floor(days / DAY_MS) * DAY_MS, to: rolled, before: rolled });
  } else if (request.tier === '1m') {
    tierSpans.push({ table: history1m, from: Math.floor(from / DAY_MS) * DAY_MS, to: rolled, before: rolled });
  }
  const spans = families.length === 0 ? [] : tierSpans.filter((span) => span.from < span.to);
  const rawSpan = { from: Math.floor(rolled / HOUR_MS) * HOUR_MS, to: compacted };
  const sections = sampleFieldsOf(request.series);
  const landing = landingColumns(sections);

  // The tier chunks, the raw chunks and the landing rows in one query (a UNION ALL, a part per read; every
  // branch names its columns, since the first one present names the result's): on PGlite a query costs ~1-2 ms
  // besides its work, and the Worker reaches its database over the network. Rows come back in any order; they
  // are sorted by part and time, the order the points are summed in.
  const noFields = landing.columns.map((column) => sql`NULL::json AS ${sql.identifier(column)}`);
  const branch = (columns: SQL[], rest: SQL) => sql`(SELECT ${sql.join(columns, sql`, `)} ${rest})`;
  const branches = spans.map(({ table, from: start, to: end }, part) =>
    branch(
      [
        sql`${sql.raw(String(part))}::int AS part`,
        sql`${epochMs(table.periodStart)} AS ms`,
        sql`NULL::int AS hours`,
        sql`${table.payload} AS payload`,
        ...noFields,
      ],
      sql`FROM ${table} WHERE ${and(
        eq(table.hostId, request.hostId),
        eq(table.tenantId, request.tenantId),
        inArray(table.family, families),
        gte(table.periodStart, new Date(start)),
        lt(table.periodStart, new Date(end)),
      )}`,
    ),
  );
  if (families.length > 0 && rawSpan.from < rawSpan.to) {
    branches.push(
      branch(
        [
          sql`${sql.raw(String(RAW_PART))}::int AS part`,
          sql`${epochMs(historyRaw.periodStart)} AS ms`,
          sql`${historyRaw.periodHours}::int AS hours`,
          sql`${historyRaw.payload} AS payload`,
          ...noFields,
        ],
        sql`FROM ${historyRaw} WHERE ${rawChunkCondition(request, rawSpan, families)}`,
      ),
    );
  }
  if (landingFrom < to && sections.size > 0) {
    branches.push(
      branch(
        [
          sql`${sql.raw(String(LANDING_PART))}::int AS part`,
          sql`${epochMs(hostSamples.ts)} AS ms`,
          sql`NULL::int AS hours`,
          sql`NULL::bytea AS payload`,
          ...landing.select(sql.raw('detoasted.sample')),
        ],
        sql`FROM ${hostSamples}, LATERAL (SELECT ${hostSamples.sample} - '{}'::text[] AS sample OFFSET 0) AS detoasted
          WHERE ${hostSamples.hostId} = ${request.hostId} AND ${hostSamples.tenantId} = ${request.tenantId}
            AND ${hostSamples.ts} >= ${new Date(landingFrom).toISOString()}::timestamptz
            AND ${hostSamples.ts} < ${new Date(to).toISOString()}::timestamptz`,
      ),
    );
  }
  const [{ rows }, custom] = await Promise.all([
    branches.length === 0
      ? { rows: [] as SourceRow[] }
      : database.execute<SourceRow>(sql.join(branches, sql` UNION ALL `)),
    families.includes('custom') && landingFrom < to
      ? readLandingCustom(database, request, landingFrom, to)
      : { chunks: [], bytes: 0 },
  ]);
  rows.sort((a, b) => a.part - b.part || Number(a.ms) - Number(b.ms));

  // Only the columns of the asked series are decoded (a family chunk holds many; a rollup's names are
  // `key|stat`), and every chunk of a family names the same columns: each name is looked at once.
  const asked = new Map<string, boolean>();
  const rollupColumns = (name: string) => {
    let wanted = asked.get(name);
    if (wanted === undefined) {
      wanted = matches(request.series, parseRollupColumnName(name)?.key ?? name);
      asked.set(name, wanted);
    }
    return wanted;
  };
  const rawColumns = (name: string) => matches(request.series, name);
  const rollups: Chunk[] = [];
  const raw: Chunk[] = [];
  let bytesRead = custom.bytes;
  let first = 0;
  while (first < rows.length && (rows[first] as SourceRow).part < RAW_PART) {
    const row = rows[first++] as SourceRow;
    const payload = bytesFromDriver(row.payload as string | Uint8Array);
    bytesRead += payload.byteLength;
    const chunk = await decodeChunk(payload, { columns: rollupColumns });
    rollups.push(withoutRange(chunk, (spans[row.part] as TierSpan).before, Number.POSITIVE_INFINITY));
  }
  while (first < rows.length && (rows[first] as SourceRow).part === RAW_PART) {
    const row = rows[first++] as SourceRow;
    const payload = bytesFromDriver(row.payload as string | Uint8Array);
    bytesRead += payload.byteLength;
    raw.push(await decodeRawHours({ periodHours: Number(row.hours), payload }, rawSpan, { columns: rawColumns }));
  }
  const samples = landingChunk(request, rows.slice(first), landing);
  bytesRead += samples.bytes;
  if (samples.chunk) raw.push(samples.chunk);
  return {
    rollups,
    raw: [...raw, ...custom.chunks],
    bytesRead,
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
