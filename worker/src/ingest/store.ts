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

/** One verified batch to store, with the host its signature was checked against. */
export interface StoreItem {
  host: StoreHost;
  /** The public key the signature was verified with: a batch is not stored once the host's key was replaced. */
  publicKey: string;
  batch: IngestBatch;
}

/** A batch's outcome: stored, already stored, or refused with the HTTP error a push would be answered. */
export type StoreOutcome = StoreResult | { refused: HttpError };

/** The batches' rows as JSON documents for `jsonb_to_recordset`: one parameter per table, however many rows. */
function rowsOf(items: readonly StoreItem[], samplesOf: readonly Sample[][], now: number) {
  const batches: unknown[] = [];
  const samples: unknown[] = [];
  const metrics: unknown[] = [];
  const events: unknown[] = [];
  const sampleLate: unknown[] = [];
  const metricLate: unknown[] = [];
  items.forEach(({ host, publicKey, batch }, i) => {
    const kept = samplesOf[i] as Sample[];
    const batchMetrics = batch.metrics ?? [];
    batches.push({
      i,
      host_id: host.id,
      public_key: publicKey,
      batch_id: batch.batch_id,
      seq: batch.seq,
      items: kept.length + batchMetrics.length + (batch.events?.length ?? 0),
      newest: iso(Math.min(Math.max(batch.sent_at, ...kept.map((s) => s.ts)), now)),
      facts: batch.facts ?? null,
    });
    for (const { ts, ...sample } of kept) samples.push({ i, ts: iso(ts), sample });
    for (const m of batchMetrics) {
      metrics.push({
        i,
        name: m.name,
        ts: iso(m.ts),
        kind: m.kind,
        value: m.kind === 'histogram' ? m.hist.sum / m.hist.count : m.value,
        summary: m.kind === 'histogram' ? m.hist : null,
        labels: m.labels ?? {},
      });
    }
    for (const e of batch.events ?? []) {
      events.push({
        i,
        ts: iso(e.ts),
        kind: e.kind,
        subject_id: e.id,
        name: e.name ?? null,
        progress: e.progress ?? null,
        message: e.message ?? null,
        labels: e.labels ?? {},
      });
    }
    // Hours compaction may already have closed (a spool replayed after an outage) are marked, so the next
    // history run merges them into those hours' chunks; a sample's hour only when a sample of it was written (a
    // journal replay of stored samples marks nothing). Nothing is written for a batch on time.
    for (const hour of lateHours(
      kept.map((s) => s.ts),
      now,
    )) {
      sampleLate.push({ i, hour: iso(hour) });
    }
    for (const hour of lateHours(
      batchMetrics.map((m) => m.ts),
      now,
    )) {
      metricLate.push({ i, hour: iso(hour) });
    }
  });
  const json = JSON.stringify;
  return {
    batches: json(batches),
    samples: json(samples),
    metrics: json(metrics),
    events: json(events),
    sampleLate: json(sampleLate),
    metricLate: json(metricLate),
  };
}

/**
 * A row the statement returns: a claimed batch (`i`), a written sample (host and time), or a host whose batches
 * were stored, with its name and labels as they are now (what alert rules match and messages name).
 */
type WrittenRow = {
  i: number | null;
  host_id: string | null;
  written_ms: number | null;
  name: string | null;
  labels: Record<string, string> | null;
};

/** A host whose batches a commit stored, as it is named and labelled now. */
export interface StoredHost {
  name: string;
  labels: Record<string, string>;
}

export interface StoreBatchesResult {
  /** One per item, in order. */
  outcomes: StoreOutcome[];
  /** The hosts of the stored batches. */
  hosts: Map<string, StoredHost>;
}

/**
 * Writes verified batches of one tenant in a single statement, so one round trip and no transaction block
 * (decisions.md, "One statement per batch"; the control socket's group commit passes many): data-modifying CTEs
 * claim each batch id, and for the batches claimed insert the samples, metrics and events, mark late hours and
 * move each host's last seen. A batch is claimed only while its host is neither revoked nor deleted and still
 * has the key that verified it. A statement is atomic, so anything failing writes nothing. A batch whose claim
 * conflicted (a retried batch, a seq used by another batch) or was refused wrote nothing, and a second query
 * says why.
 */
export async function storeBatches(
  database: Database,
  tenantId: string,
  items: readonly StoreItem[],
): Promise<StoreBatchesResult> {
  const storedHosts = new Map<string, StoredHost>();
  if (items.length === 0) return { outcomes: [], hosts: storedHosts };
  const samplesOf = items.map(({ batch }) => firstPerTimestamp(batch.samples));
  const rows = rowsOf(items, samplesOf, Date.now());
  const result = await database.execute<WrittenRow>(sql`
    WITH b AS (
      SELECT * FROM jsonb_to_recordset(${rows.batches}::jsonb) AS b(
        i integer, host_id uuid, public_key text, batch_id uuid, seq bigint, items integer, newest timestamptz,
        facts jsonb
      )
    ), claim AS (
      INSERT INTO ingest_batches (tenant_id, host_id, batch_id, seq, sample_count)
      SELECT h.tenant_id, b.host_id, b.batch_id, b.seq, b.items
      FROM b JOIN hosts h ON h.id = b.host_id
      WHERE h.tenant_id = ${tenantId}::uuid AND h.revoked_at IS NULL AND h.deleted_at IS NULL
        AND h.public_key = b.public_key
      ORDER BY b.i
      ON CONFLICT DO NOTHING
      RETURNING host_id, batch_id
    ), claimed AS (
      SELECT b.* FROM b JOIN claim ON claim.host_id = b.host_id AND claim.batch_id = b.batch_id
    ), written AS (
      -- A timestamp the host already has (a journal replay after kill -9) is kept once: not stored, not counted.
      INSERT INTO host_samples (tenant_id, host_id, ts, sample)
      SELECT ${tenantId}::uuid, c.host_id, s.ts, s.sample
      FROM jsonb_to_recordset(${rows.samples}::jsonb) AS s(i integer, ts timestamptz, sample jsonb)
      JOIN claimed c ON c.i = s.i
      ON CONFLICT DO NOTHING
      RETURNING host_id, ts
    ), metric_rows AS (
      INSERT INTO custom_metric_points (tenant_id, host_id, name, ts, kind, value, summary, labels)
      SELECT ${tenantId}::uuid, c.host_id, m.name, m.ts, m.kind::metric_kind, m.value, m.summary, m.labels
      FROM jsonb_to_recordset(${rows.metrics}::jsonb)
        AS m(i integer, name text, ts timestamptz, kind text, value float8, summary jsonb, labels jsonb)
      JOIN claimed c ON c.i = m.i
    ), event_rows AS (
      INSERT INTO app_events (tenant_id, host_id, ts, kind, subject_id, name, progress, message, labels)
      SELECT ${tenantId}::uuid, c.host_id, e.ts, e.kind, e.subject_id, e.name, e.progress, e.message, e.labels
      FROM jsonb_to_recordset(${rows.events}::jsonb)
        AS e(i integer, ts timestamptz, kind text, subject_id text, name text, progress real, message text, labels jsonb)
      JOIN claimed c ON c.i = e.i
    ), late AS (
      INSERT INTO history_late (host_id, hour)
      SELECT c.host_id, l.hour
      FROM jsonb_to_recordset(${rows.sampleLate}::jsonb) AS l(i integer, hour timestamptz)
      JOIN claimed c ON c.i = l.i
      WHERE EXISTS (
        SELECT FROM written w WHERE w.host_id = c.host_id AND w.ts >= l.hour AND w.ts < l.hour + interval '1 hour'
      )
      UNION
      SELECT c.host_id, l.hour
      FROM jsonb_to_recordset(${rows.metricLate}::jsonb) AS l(i integer, hour timestamptz)
      JOIN claimed c ON c.i = l.i
      ON CONFLICT (host_id, hour) DO UPDATE SET marked_at = now()
    ), locked AS MATERIALIZED (
      -- The hosts' rows in id order before any is updated: two commits sharing hosts then wait for each other
      -- rather than deadlock. NO KEY UPDATE, as the update itself takes, so foreign-key checks are not blocked.
      SELECT id FROM hosts
      WHERE id IN (SELECT host_id FROM claimed) AND tenant_id = ${tenantId}::uuid
      ORDER BY id
      FOR NO KEY UPDATE
    ), seen AS (
      UPDATE hosts SET
        last_seen_at = greatest(last_seen_at, x.newest),
        last_seq = greatest(last_seq, x.seq),
        facts = coalesce(x.facts, hosts.facts)
      FROM (
        SELECT host_id, max(newest) AS newest, max(seq) AS seq,
          (array_agg(facts ORDER BY seq DESC) FILTER (WHERE facts IS NOT NULL))[1] AS facts
        FROM claimed GROUP BY host_id
      ) AS x
      WHERE hosts.id = x.host_id AND hosts.tenant_id = ${tenantId}::uuid AND x.host_id IN (SELECT id FROM locked)
      RETURNING hosts.id, hosts.name, hosts.labels
    )
    SELECT i, NULL::uuid AS host_id, NULL::float8 AS written_ms, NULL::text AS name, NULL::jsonb AS labels
    FROM claimed
    UNION ALL
    SELECT NULL, host_id, (extract(epoch FROM ts) * 1000)::float8, NULL, NULL FROM written
    UNION ALL
    SELECT NULL, id, NULL, name, labels FROM seen
  `);
  const claimed = new Set<number>();
  const writtenKeys = new Set<string>();
  for (const row of result.rows) {
    if (row.i !== null) claimed.add(Number(row.i));
    else if (row.host_id === null) continue;
    else if (row.written_ms !== null) writtenKeys.add(`${row.host_id}@${Number(row.written_ms)}`);
    else if (row.name !== null) storedHosts.set(row.host_id, { name: row.name, labels: row.labels ?? {} });
  }
  const outcomes: StoreOutcome[] = [];
  for (const [i, item] of items.entries()) {
    if (!claimed.has(i)) {
      outcomes.push(await refusal(database, item));
      continue;
    }
    // A sample written is the first claimed batch's that carries its host and time (two batches of one commit
    // may carry the same sample: a journal replay beside a fresh batch).
    const stored = (samplesOf[i] as Sample[]).filter((sample) => writtenKeys.delete(`${item.host.id}@${sample.ts}`));
    const accepted = stored.length + (item.batch.metrics?.length ?? 0) + (item.batch.events?.length ?? 0);
    outcomes.push({ duplicate: false, accepted, samples: stored });
  }
  return { outcomes, hosts: storedHosts };
}

/** One batch over HTTP: `storeBatches` with one item, its refusal thrown as the push's answer. */
export async function storeBatch(
  database: Database,
  host: StoreHost,
  batch: IngestBatch,
  publicKey: string,
): Promise<StoreResult> {
  const {
    outcomes: [outcome],
  } = await storeBatches(database, host.tenantId, [{ host, publicKey, batch }]);
  if (!outcome) throw new Error('storeBatches answered nothing for one batch');
  if ('refused' in outcome) throw outcome.refused;
  return outcome;
}

/**
 * The batch was not claimed and nothing of it was written: the same batch again (acknowledged as a duplicate),
 * its seq used by another batch (409), or its host revoked, deleted or re-keyed since the signature was checked.
 */
async function refusal(database: Database, { host, publicKey, batch }: StoreItem): Promise<StoreOutcome> {
  const [same] = await database
    .select({ batchId: ingestBatches.batchId })
    .from(ingestBatches)
    .where(and(eq(ingestBatches.hostId, host.id), eq(ingestBatches.batchId, batch.batch_id)))
    .limit(1);
  if (same) return { duplicate: true, accepted: 0 };
  const [stored] = await database
    .select({
      lastSeq: hosts.lastSeq,
      publicKey: hosts.publicKey,
      revokedAt: hosts.revokedAt,
      deletedAt: hosts.deletedAt,
    })
    .from(hosts)
    .where(and(eq(hosts.id, host.id), eq(hosts.tenantId, host.tenantId)))
    .limit(1);
  if (!stored || stored.deletedAt || stored.revokedAt) {
    return {
      refused: new HttpError(403, 'host_revoked', 'This host has been revoked or deleted; its agent must stop'),
    };
  }
  if (stored.publicKey !== publicKey) {
    return { refused: new HttpError(401, 'bad_signature', 'Signed with a key this host no longer has') };
  }
  // Authentication may have read the host seconds ago (host-cache.ts): name the highest seq stored now.
  return {
    refused: new HttpError(
      409,
      'replayed_seq',
      `Sequence number ${batch.seq} was already used by another batch; send it again with a seq above lastSeq`,
      { details: { lastSeq: Math.max(stored.lastSeq ?? host.lastSeq, batch.seq) } },
    ),
  };
}
