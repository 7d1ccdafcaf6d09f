import { type IngestBatch, MAX_TIMESTAMP_LEAD_MS } from '@pulsewire/protocol';

/**
 * Leaves out the samples, metrics and events stamped more than MAX_TIMESTAMP_LEAD_MS after the batch's signed
 * timestamp. The agent stamps everything before it signs, so these come from a clock gone wrong; stored, one
 * stamped 2099 would be the host's "latest" for decades and would later collide with the real sample of that
 * time. Dropped items are not counted in `accepted`; the rest of the batch is stored as usual.
 */
export function withoutFutureItems(batch: IngestBatch, signedAt: number): { batch: IngestBatch; dropped: number } {
  const limit = signedAt + MAX_TIMESTAMP_LEAD_MS;
  const inTime = <T extends { ts: number }>(items: T[] | undefined) => items?.filter((item) => item.ts <= limit);
  const samples = inTime(batch.samples) ?? [];
  const metrics = inTime(batch.metrics);
  const events = inTime(batch.events);
  const dropped =
    batch.samples.length -
    samples.length +
    (batch.metrics?.length ?? 0) -
    (metrics?.length ?? 0) +
    (batch.events?.length ?? 0) -
    (events?.length ?? 0);
  if (dropped === 0) return { batch, dropped };
  return {
    batch: { ...batch, samples, ...(metrics ? { metrics } : {}), ...(events ? { events } : {}) },
    dropped,
  };
}
