import { customPoints, type IngestBatch, samplePoints } from '@pulsewire/protocol';
import type { HostObservation } from '../alerts/types.ts';
import type { hosts } from '../db/schema.ts';

type AuthenticatedHost = Pick<typeof hosts.$inferSelect, 'id' | 'name' | 'labels'>;

/** What of a stored batch the tenant object's alert engine reads (its push interval the object knows itself). */
export type BatchObservation = Omit<HostObservation, 'pushIntervalMs'>;

/**
 * Flattens a batch into the series the alert engine evaluates: host samples and custom metrics as
 * (metric, labels, value) points per timestamp, events as they are, and the boot time when the batch
 * carries facts (a change of it is a reboot). Computed once in the Worker, which already holds the
 * parsed batch, so the object receives a few KB rather than whole samples with their process lists.
 */
export function batchObservation(host: AuthenticatedHost, batch: IngestBatch): BatchObservation {
  const byTs = new Map<number, ReturnType<typeof customPoints>>();
  for (const metric of batch.metrics ?? []) {
    const points = byTs.get(metric.ts) ?? [];
    points.push(...customPoints(metric));
    byTs.set(metric.ts, points);
  }
  return {
    host: { id: host.id, name: host.name, labels: host.labels },
    samples: [...batch.samples].sort((a, b) => a.ts - b.ts).map((s) => ({ ts: s.ts, points: samplePoints(s) })),
    custom: [...byTs].sort((a, b) => a[0] - b[0]).map(([ts, points]) => ({ ts, points })),
    events: batch.events ?? [],
    ...(batch.facts ? { bootTime: batch.facts.bootTime } : {}),
  };
}
