import type { IngestBatch, Sample } from '@pulsewire/protocol';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { hosts, ingestBatches } from '../db/schema.ts';
import { lateHours } from '../history/late.ts';
import { HttpError } from '../http/errors.ts';

export type StoreResult =
  | { duplicate: true; accepted: 0 }
  | {
      duplicate: false;
      /** Rows written: samples (one per host and timestamp), metrics and events. */
      accepted: number;
      /** The samples actually written, in batch order: what the live view may show. */
      samples: Sample[];
    };

/** The host the batch is for, as authentication read it. */
export interface StoreHost {
  id: string;
  tenantId: string;
  /** `hosts.last_seq` when the request was authenticated (a fallback: a 409 reads the stored one). */
  lastSeq: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** One sample per timestamp, the first (what `ON CONFLICT DO NOTHING` would keep, said before the insert). */
function firstPerTimestamp(samples: Sample[]): Sample[] {
  const seen = new Set<number>();
  return samples.filter((sample) => !seen.has(sample.ts) && seen.add(sample.ts));
}

/** The batch's rows as JSON documents for `jsonb_to_recordset`: one parameter per table, however many rows. */
function rowsOf(samples: Sample[], batch: IngestBatch) {
  return {
    samples: JSON.stringify(samples.map(({ ts, ...sample }) => ({ ts: iso(ts), sample }))),
    metrics: JSON.stringify(
      (batch.metrics ?? []).map((m) => ({
        name: m.name,
        ts: iso(m.ts),
        kind: m.kind,
        value: m.kind === 'histogram' ? m.hist.sum / m.hist.count : m.value,
        summary: m.kind === 'histogram' ? m.hist : null,
        labels: m.labels ?? {},
      })),
    ),
    events: JSON.stringify(
      (batch.events ?? []).map((e) => ({
        ts: iso(e.ts),
        kind: e.kind,
        subject_id: e.id,
        name: e.name ?? null,
        progress: e.progress ?? null,
        message: e.message ?? null,
        labels: e.labels ?? {},
      })),
    ),
  };
}

/**
 * Writes one verified batch in a single statement, so one round trip and no transaction block (decisions.md,
 * "One statement per batch"): data-modifying CTEs claim the batch id, and only when it was claimed insert the
 * samples, metrics and events, mark late hours and move the host's last seen. A statement is atomic, so anything
 * failing writes nothing. When the claim conflicts (a retried batch, or a seq used by another batch), nothing
 * was written and a second query says which.
 */
export async function storeBatch(database: Database, host: StoreHost, batch: IngestBatch): Promise<StoreResult> {
  const { id: hostId, tenantId } = host;
  const samples = firstPerTimestamp(batch.samples);
  const metrics = batch.metrics ?? [];
  const items = samples.length + metrics.length + (batch.events?.length ?? 0);
  const rows = rowsOf(samples, batch);
  // Hours compaction may already have closed (a spool replayed after an outage) are marked, so the next history
  // run merges them into those hours' chunks; a sample's hour only when the sample was written (a journal replay
  // of stored samples marks nothing). Nothing is written for a batch on time.
  const now = Date.now();
  const sampleLate = JSON.stringify(
    lateHours(
      samples.map((s) => s.ts),
      now,
    ).map(iso),
  );
  const metricLate = JSON.stringify(
    lateHours(
      metrics.map((m) => m.ts),
      now,
    ).map(iso),
  );
  const newest = iso(Math.min(Math.max(batch.sent_at, ...samples.map((s) => s.ts)), now));
  const facts = batch.facts ? JSON.stringify(batch.facts) : null;
  const result = await database.execute<{ written_ms: number | null }>(sql`
    WITH p AS (
      SELECT ${tenantId}::uuid AS tenant_id, ${hostId}::uuid AS host_id
    ), claim AS (
      INSERT INTO ingest_batches (tenant_id, host_id, batch_id, seq, sample_count)
      SELECT tenant_id, host_id, ${batch.batch_id}::uuid, ${batch.seq}::bigint, ${items}::integer FROM p
      ON CONFLICT DO NOTHING
      RETURNING 1
    ), written AS (
      -- A timestamp the host already has (a journal replay after kill -9) is kept once: not stored, not counted.
      INSERT INTO host_samples (tenant_id, host_id, ts, sample)
      SELECT p.tenant_id, p.host_id, s.ts, s.sample
      FROM p, jsonb_to_recordset(${rows.samples}::jsonb) AS s(ts timestamptz, sample jsonb)
      WHERE EXISTS (SELECT FROM claim)
      ON CONFLICT DO NOTHING
      RETURNING ts
    ), metric_rows AS (
      INSERT INTO custom_metric_points (tenant_id, host_id, name, ts, kind, value, summary, labels)
      SELECT p.tenant_id, p.host_id, m.name, m.ts, m.kind::metric_kind, m.value, m.summary, m.labels
      FROM p, jsonb_to_recordset(${rows.metrics}::jsonb)
        AS m(name text, ts timestamptz, kind text, value float8, summary jsonb, labels jsonb)
      WHERE EXISTS (SELECT FROM claim)
    ), event_rows AS (
      INSERT INTO app_events (tenant_id, host_id, ts, kind, subject_id, name, progress, message, labels)
      SELECT p.tenant_id, p.host_id, e.ts, e.kind, e.subject_id, e.name, e.progress, e.message, e.labels
      FROM p, jsonb_to_recordset(${rows.events}::jsonb)
        AS e(ts timestamptz, kind text, subject_id text, name text, progress real, message text, labels jsonb)
      WHERE EXISTS (SELECT FROM claim)
    ), late AS (
      INSERT INTO history_late (host_id, hour)
      SELECT p.host_id, h.hour FROM p, (
        SELECT value::timestamptz AS hour FROM jsonb_array_elements_text(${sampleLate}::jsonb)
        WHERE EXISTS (
          SELECT FROM written WHERE written.ts >= value::timestamptz AND written.ts < value::timestamptz + interval '1 hour'
        )
        UNION
        SELECT value::timestamptz FROM jsonb_array_elements_text(${metricLate}::jsonb)
      ) AS h
      WHERE EXISTS (SELECT FROM claim)
      ON CONFLICT (host_id, hour) DO UPDATE SET marked_at = now()
    ), seen AS (
      UPDATE hosts SET
        last_seen_at = greatest(last_seen_at, ${newest}::timestamptz),
        last_seq = greatest(last_seq, ${batch.seq}::bigint),
        facts = coalesce(${facts}::jsonb, facts)
      FROM p
      WHERE hosts.id = p.host_id AND hosts.tenant_id = p.tenant_id AND EXISTS (SELECT FROM claim)
    )
    SELECT (extract(epoch FROM written.ts) * 1000)::float8 AS written_ms
    FROM claim LEFT JOIN written ON true
  `);
  if (result.rows.length === 0) return refused(database, host, batch);
  const writtenAt = new Set(
    result.rows
      .map((row) => row.written_ms)
      .filter((ms) => ms !== null)
      .map(Number),
  );
  const stored = samples.filter((sample) => writtenAt.has(sample.ts));
  const accepted = stored.length + metrics.length + (batch.events?.length ?? 0);
  return { duplicate: false, accepted, samples: stored };
}

/** The claim conflicted and nothing was written: the same batch again (acknowledged), or its seq used by another. */
async function refused(database: Database, host: StoreHost, batch: IngestBatch): Promise<StoreResult> {
  const [same] = await database
    .select({ batchId: ingestBatches.batchId })
    .from(ingestBatches)
    .where(and(eq(ingestBatches.hostId, host.id), eq(ingestBatches.batchId, batch.batch_id)))
    .limit(1);
  if (same) return { duplicate: true, accepted: 0 };
  // Authentication may have read the host seconds ago (host-cache.ts): name the highest seq stored now.
  const [stored] = await database.select({ lastSeq: hosts.lastSeq }).from(hosts).where(eq(hosts.id, host.id)).limit(1);
  throw new HttpError(
    409,
    'replayed_seq',
    `Sequence number ${batch.seq} was already used by another batch; send it again with a seq above lastSeq`,
    { details: { lastSeq: Math.max(stored?.lastSeq ?? host.lastSeq, batch.seq) } },
  );
}
