/**
 * The baseline both history benchmarks compare against: the layout before issue 12, a jsonb row per sample
 * (`host_samples` as migrations 0002–0004 left it: a plain table, key (host_id, ts), index (tenant_id, ts))
 * and a row per custom metric point (`custom_metric_points`), in tables of their own beside the new tiers.
 */
import { customPoints, samplePoints } from '@pulsewire/protocol';
import type { SqlSession } from '@pulsewire/stack';
import { syntheticCustomMetrics, syntheticSample } from '@pulsewire/stack/synthetic';
import { type BenchHost, tenSecondTimes } from './history-data.ts';

export const BASELINE_SAMPLES = 'bench_jsonb_samples';
export const BASELINE_CUSTOM = 'bench_jsonb_custom_points';

export async function createBaselineTables(session: SqlSession): Promise<void> {
  await session.client.query(`
    CREATE TABLE ${BASELINE_SAMPLES} (
      tenant_id uuid NOT NULL, host_id uuid NOT NULL, ts timestamptz NOT NULL, sample jsonb NOT NULL,
      PRIMARY KEY (host_id, ts));
    CREATE INDEX ${BASELINE_SAMPLES}_tenant_ts_idx ON ${BASELINE_SAMPLES} (tenant_id, ts);
    CREATE TABLE ${BASELINE_CUSTOM} (
      tenant_id uuid NOT NULL, host_id uuid NOT NULL, name text NOT NULL, ts timestamptz NOT NULL,
      kind metric_kind NOT NULL, value double precision NOT NULL, summary jsonb, labels jsonb NOT NULL DEFAULT '{}');
    CREATE INDEX ${BASELINE_CUSTOM}_host_name_ts_idx ON ${BASELINE_CUSTOM} (host_id, name, ts);
    CREATE INDEX ${BASELINE_CUSTOM}_tenant_ts_idx ON ${BASELINE_CUSTOM} (tenant_id, ts);`);
}

/** Rows per statement: one JSON array parameter each, unpacked by Postgres. */
const BATCH = 500;

/**
 * One host's samples and custom metric points over [from, to) at 10 s, as ingest stored them before issue 12
 * (the sample without its `ts`; a histogram's mean as its value and its summary as jsonb). Returns the values
 * they hold, counted as the catalog counts series points.
 */
export async function fillBaseline(
  session: SqlSession,
  tenantId: string,
  host: BenchHost,
  from: number,
  to: number,
): Promise<{ samples: number; values: number }> {
  let samples = 0;
  let values = 0;
  let sampleRows: { ts: number; s: unknown }[] = [];
  let customRows: unknown[] = [];
  const flush = async () => {
    if (sampleRows.length > 0) {
      await session.client.query(
        `INSERT INTO ${BASELINE_SAMPLES} (tenant_id, host_id, ts, sample)
         SELECT $1, $2, to_timestamp((e->>'ts')::bigint / 1000.0), e->'s' FROM jsonb_array_elements($3::jsonb) e`,
        [tenantId, host.id, JSON.stringify(sampleRows)],
      );
    }
    if (customRows.length > 0) {
      await session.client.query(
        `INSERT INTO ${BASELINE_CUSTOM} (tenant_id, host_id, name, ts, kind, value, summary, labels)
         SELECT $1, $2, e->>'name', to_timestamp((e->>'ts')::bigint / 1000.0), (e->>'kind')::metric_kind,
           (e->>'value')::float8, nullif(e->'summary', 'null'::jsonb), e->'labels'
         FROM jsonb_array_elements($3::jsonb) e`,
        [tenantId, host.id, JSON.stringify(customRows)],
      );
    }
    sampleRows = [];
    customRows = [];
  };
  for (const ts of tenSecondTimes(from, to)) {
    const sample = syntheticSample(host.seed, ts);
    const { ts: _ts, ...stored } = sample;
    sampleRows.push({ ts, s: stored });
    values += samplePoints(sample).length;
    samples++;
    for (const m of syntheticCustomMetrics(host.seed, ts)) {
      values += customPoints(m).length;
      customRows.push({
        name: m.name,
        ts: m.ts,
        kind: m.kind,
        value: m.kind === 'histogram' ? m.hist.sum / m.hist.count : m.value,
        summary: m.kind === 'histogram' ? m.hist : null,
        labels: m.labels ?? {},
      });
    }
    if (sampleRows.length >= BATCH) await flush();
  }
  await flush();
  return { samples, values };
}

/** A chart's buckets from the jsonb rows: min/avg/max per (series key, bucket start), present buckets only. */
export interface BaselineBucket {
  key: string;
  bucket: number;
  min: number;
  avg: number;
  max: number;
}

/**
 * The chart the history benchmark asks for (cpu.total, memory.used_pct, net.rx on every interface), aggregated
 * straight from the jsonb rows of [from, to) in step-aligned UTC buckets: what a history query over the old
 * layout would have to do. The rows are read once (a materialised CTE) and each series taken from them.
 */
export async function baselineChart(
  session: SqlSession,
  request: { tenantId: string; hostId: string; from: number; to: number; stepMs: number },
): Promise<BaselineBucket[]> {
  const { rows } = await session.client.query<{
    key: string;
    bucket: Date;
    min: number;
    avg: number;
    max: number;
  }>(
    `WITH r AS MATERIALIZED (
       SELECT ts, sample FROM ${BASELINE_SAMPLES} WHERE host_id = $1 AND tenant_id = $2 AND ts >= $3 AND ts < $4)
     SELECT key, date_bin($5::interval, ts, timestamptz '1970-01-01 00:00:00+00') AS bucket,
       min(v) AS min, avg(v) AS avg, max(v) AS max
     FROM (
       SELECT 'cpu.total' AS key, ts, (sample->'cpu'->>'total')::float8 AS v FROM r
       UNION ALL
       SELECT 'memory.used_pct', ts,
         ((sample->'memory'->>'total')::float8 - (sample->'memory'->>'available')::float8)
           / nullif((sample->'memory'->>'total')::float8, 0) * 100 FROM r
       UNION ALL
       SELECT 'net.rx{iface=' || to_json(n->>'iface')::text || '}', ts, (n->>'rxBytesPerSec')::float8
       FROM r, jsonb_array_elements(r.sample->'net') n
     ) p
     WHERE v IS NOT NULL
     GROUP BY 1, 2 ORDER BY 1, 2`,
    [
      request.hostId,
      request.tenantId,
      new Date(request.from).toISOString(),
      new Date(request.to).toISOString(),
      `${request.stepMs} milliseconds`,
    ],
  );
  return rows.map((row) => ({
    key: row.key,
    bucket: new Date(row.bucket).getTime(),
    min: Number(row.min),
    avg: Number(row.avg),
    max: Number(row.max),
  }));
}

/** The bytes the baseline chart reads: the stored (possibly compressed) jsonb of the rows in the range. */
export async function baselineBytes(
  session: SqlSession,
  request: { tenantId: string; hostId: string; from: number; to: number },
): Promise<{ rows: number; bytes: number }> {
  const { rows } = await session.client.query<{ rows: string; bytes: string | null }>(
    `SELECT count(*)::text AS rows, sum(pg_column_size(sample))::text AS bytes FROM ${BASELINE_SAMPLES}
     WHERE host_id = $1 AND tenant_id = $2 AND ts >= $3 AND ts < $4`,
    [request.hostId, request.tenantId, new Date(request.from).toISOString(), new Date(request.to).toISOString()],
  );
  return { rows: Number(rows[0]?.rows ?? 0), bytes: Number(rows[0]?.bytes ?? 0) };
}
