import { z } from 'zod';
import { HostFacts, Labels, Sample } from './ingest.ts';

export const HostStatus = z.enum(['online', 'stale', 'offline']).meta({ id: 'HostStatus' });
export type HostStatus = z.infer<typeof HostStatus>;

/**
 * Online while pushes arrive about on time, stale after missing a couple, offline after two minutes
 * (or four push intervals, if the service's idle cadence is slower). Shared by the API, the
 * Tenant object and the dashboard so all three agree.
 */
export function hostStatus(lastSeenMs: number | null, nowMs: number, pushIntervalMs: number): HostStatus {
  if (lastSeenMs === null) return 'offline';
  const age = nowMs - lastSeenMs;
  if (age <= pushIntervalMs * 2.5) return 'online';
  if (age <= Math.max(120_000, pushIntervalMs * 4)) return 'stale';
  return 'offline';
}

/** At-a-glance figures for the host list. */
export const HostGlance = z
  .object({
    ts: z.number(),
    cpuPct: z.number().optional(),
    memPct: z.number().optional(),
    /** The fullest filesystem, percent. */
    diskPct: z.number().optional(),
    load1: z.number().optional(),
  })
  .meta({ id: 'HostGlance' });

export const HostSummary = z
  .object({
    id: z.uuid(),
    name: z.string(),
    status: HostStatus,
    lastSeenAt: z.iso.datetime().nullable(),
    labels: Labels,
    os: z.string().nullable(),
    agentVersion: z.string().nullable(),
    glance: HostGlance.nullable(),
  })
  .meta({ id: 'HostSummary' });
export type HostSummary = z.infer<typeof HostSummary>;
export const HostList = z.object({ hosts: z.array(HostSummary) }).meta({ id: 'HostList' });

export const HostDetail = HostSummary.extend({
  facts: HostFacts.partial(),
  createdAt: z.iso.datetime(),
  /** The newest sample, every collector that reported. */
  latest: Sample.nullable(),
}).meta({ id: 'HostDetail' });
export type HostDetail = z.infer<typeof HostDetail>;

/** Figures for the glance from one sample; sections a host does not report stay absent. */
export function glanceOf(sample: Sample): z.infer<typeof HostGlance> {
  const memory = sample.memory;
  const fullest = sample.disks?.reduce((max, d) => Math.max(max, d.usedPct), 0);
  return {
    ts: sample.ts,
    ...(sample.cpu ? { cpuPct: sample.cpu.total } : {}),
    ...(memory && memory.total > 0 ? { memPct: ((memory.total - memory.available) / memory.total) * 100 } : {}),
    ...(fullest !== undefined ? { diskPct: fullest } : {}),
    ...(sample.load ? { load1: sample.load[1] } : {}),
  };
}
