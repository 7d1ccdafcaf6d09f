import type { IngestBatch, Sample } from '@pulsewire/protocol';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { appEvents, customMetricPoints, historyLate, hostSamples, hosts, ingestBatches } from '../db/schema.ts';
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

const at = (ms: number) => new Date(ms);

/** One sample per timestamp, the first (what `ON CONFLICT DO NOTHING` would keep, said before the insert). */
function firstPerTimestamp(samples: Sample[]): Sample[] {
  const seen = new Set<number>();
  return samples.filter((sample) => !seen.has(sample.ts) && seen.add(sample.ts));
}

/**
 * Writes one verified batch in a single transaction: the batch id first (a retried batch stops
 * there and is acknowledged), then every row in multi-row inserts, then the host's last seen.
 * Anything failing rolls back all of it, so a bad batch writes nothing.
 */
export async function storeBatch(database: Database, host: StoreHost, batch: IngestBatch): Promise<StoreResult> {
  const { id: hostId, tenantId } = host;
  const samples = firstPerTimestamp(batch.samples);
  return database.transaction(async (tx): Promise<StoreResult> => {
    const items = samples.length + (batch.metrics?.length ?? 0) + (batch.events?.length ?? 0);
    const [claimed] = await tx
      .insert(ingestBatches)
      .values({ tenantId, hostId, batchId: batch.batch_id, seq: batch.seq, sampleCount: items })
      .onConflictDoNothing()
      .returning({ batchId: ingestBatches.batchId });
    if (!claimed) {
      const [same] = await tx
        .select({ batchId: ingestBatches.batchId })
        .from(ingestBatches)
        .where(and(eq(ingestBatches.hostId, hostId), eq(ingestBatches.batchId, batch.batch_id)))
        .limit(1);
      if (same) return { duplicate: true, accepted: 0 };
      // Authentication may have read the host seconds ago (host-cache.ts): name the highest seq stored now.
      const [stored] = await tx.select({ lastSeq: hosts.lastSeq }).from(hosts).where(eq(hosts.id, hostId)).limit(1);
      throw new HttpError(
        409,
        'replayed_seq',
        `Sequence number ${batch.seq} was already used by another batch; send it again with a seq above lastSeq`,
        { details: { lastSeq: Math.max(stored?.lastSeq ?? host.lastSeq, batch.seq) } },
      );
    }

    let stored: Sample[] = [];
    if (samples.length > 0) {
      // A timestamp the host already has (a journal replay after kill -9) is kept once: not stored, not counted.
      const written = await tx
        .insert(hostSamples)
        .values(
          samples.map(({ ts, ...sample }) => ({
            tenantId,
            hostId,
            ts: at(ts),
            sample: sample as Record<string, unknown>,
          })),
        )
        .onConflictDoNothing()
        .returning({ ts: hostSamples.ts });
      const writtenAt = new Set(written.map((row) => row.ts.getTime()));
      stored = samples.filter((sample) => writtenAt.has(sample.ts));
    }
    if (batch.metrics?.length) {
      await tx.insert(customMetricPoints).values(
        batch.metrics.map((m) => ({
          tenantId,
          hostId,
          name: m.name,
          ts: at(m.ts),
          kind: m.kind,
          value: m.kind === 'histogram' ? m.hist.sum / m.hist.count : m.value,
          summary: m.kind === 'histogram' ? m.hist : null,
          labels: m.labels ?? {},
        })),
      );
    }
    if (batch.events?.length) {
      await tx.insert(appEvents).values(
        batch.events.map((e) => ({
          tenantId,
          hostId,
          ts: at(e.ts),
          kind: e.kind,
          subjectId: e.id,
          name: e.name ?? null,
          progress: e.progress ?? null,
          message: e.message ?? null,
          labels: e.labels ?? {},
        })),
      );
    }
    // Data for hours compaction may already have closed (a spool replayed after an outage): marked, so the
    // next history run merges it into those hours' chunks. Nothing is written for a batch on time.
    const late = lateHours([...stored.map((s) => s.ts), ...(batch.metrics ?? []).map((m) => m.ts)], Date.now());
    if (late.length > 0) {
      await tx
        .insert(historyLate)
        .values(late.map((hour) => ({ hostId, hour: at(hour) })))
        .onConflictDoUpdate({ target: [historyLate.hostId, historyLate.hour], set: { markedAt: sql`now()` } });
    }
    const newest = Math.max(batch.sent_at, ...samples.map((s) => s.ts));
    await tx
      .update(hosts)
      .set({
        lastSeenAt: sql`greatest(${hosts.lastSeenAt}, ${at(Math.min(newest, Date.now())).toISOString()}::timestamptz)`,
        lastSeq: sql`greatest(${hosts.lastSeq}, ${batch.seq})`,
        ...(batch.facts ? { facts: batch.facts } : {}),
      })
      .where(and(eq(hosts.id, hostId), eq(hosts.tenantId, tenantId)));
    const accepted = stored.length + (batch.metrics?.length ?? 0) + (batch.events?.length ?? 0);
    return { duplicate: false, accepted, samples: stored };
  });
}
