import type { IngestBatch } from '@pulsewire/protocol';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { appEvents, customMetricPoints, hostSamples, hosts, ingestBatches } from '../db/schema.ts';
import { HttpError } from '../http/errors.ts';

export interface StoreResult {
  duplicate: boolean;
  accepted: number;
}

const at = (ms: number) => new Date(ms);

/**
 * Writes one verified batch in a single transaction: the batch id first (a retried batch stops
 * there and is acknowledged), then every row in multi-row inserts, then the host's last seen.
 * Anything failing rolls back all of it, so a bad batch writes nothing.
 */
export async function storeBatch(
  database: Database,
  tenantId: string,
  hostId: string,
  batch: IngestBatch,
): Promise<StoreResult> {
  return database.transaction(async (tx) => {
    const accepted = batch.samples.length + (batch.metrics?.length ?? 0) + (batch.events?.length ?? 0);
    const [claimed] = await tx
      .insert(ingestBatches)
      .values({ tenantId, hostId, batchId: batch.batch_id, seq: batch.seq, sampleCount: accepted })
      .onConflictDoNothing()
      .returning({ batchId: ingestBatches.batchId });
    if (!claimed) {
      const [same] = await tx
        .select({ batchId: ingestBatches.batchId })
        .from(ingestBatches)
        .where(and(eq(ingestBatches.hostId, hostId), eq(ingestBatches.batchId, batch.batch_id)))
        .limit(1);
      if (same) return { duplicate: true, accepted: 0 };
      throw new HttpError(409, 'replayed_seq', `Sequence number ${batch.seq} was already used by another batch`);
    }

    if (batch.samples.length > 0) {
      await tx
        .insert(hostSamples)
        .values(
          batch.samples.map(({ ts, ...sample }) => ({
            tenantId,
            hostId,
            ts: at(ts),
            sample: sample as Record<string, unknown>,
          })),
        )
        .onConflictDoNothing();
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
    const newest = Math.max(batch.sent_at, ...batch.samples.map((s) => s.ts));
    await tx
      .update(hosts)
      .set({
        lastSeenAt: sql`greatest(${hosts.lastSeenAt}, ${at(Math.min(newest, Date.now())).toISOString()}::timestamptz)`,
        lastSeq: sql`greatest(${hosts.lastSeq}, ${batch.seq})`,
        ...(batch.facts ? { facts: batch.facts } : {}),
      })
      .where(and(eq(hosts.id, hostId), eq(hosts.tenantId, tenantId)));
    return { duplicate: false, accepted };
  });
}
