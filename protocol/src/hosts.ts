import * as z from 'zod';
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
    /** When an admin revoked it: its agent is refused (403 `host_revoked`) and it never comes back. */
    revokedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'HostSummary' });
export type HostSummary = z.infer<typeof HostSummary>;

/** Hosts per page of `GET /hosts`: the default and the most. */
export const DEFAULT_HOSTS_LIMIT = 100;
export const MAX_HOSTS_LIMIT = 500;

export const HostListQuery = z.object({
  /** Hosts whose name contains this, ignoring case. */
  q: z.string().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_HOSTS_LIMIT).optional(),
  /** Opaque cursor from the previous page's `nextCursor`. */
  cursor: z.string().max(400).optional(),
});
export type HostListQuery = z.infer<typeof HostListQuery>;

/** One page of hosts in (name, id) order; `nextCursor` is null on the last page. */
export const HostList = z
  .object({ hosts: z.array(HostSummary), nextCursor: z.string().nullable() })
  .meta({ id: 'HostList' });
export type HostList = z.infer<typeof HostList>;

export const HostDetail = HostSummary.extend({
  facts: HostFacts.partial(),
  createdAt: z.iso.datetime(),
  /** The newest sample, every collector that reported. */
  latest: Sample.nullable(),
  /** Until then the next enrollment of this machine with a new key takes this host over (an admin allowed it). */
  keyReplaceUntil: z.iso.datetime().nullable(),
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

/** How long `POST /hosts/:id/replace-key` without a key leaves the host open to its machine's next enrollment. */
export const KEY_REPLACEMENT_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * `POST /hosts/:id/replace-key`: with `publicKey`, the host's key is that one from now on (the machine then
 * enrolls with it and keeps the host); without, the next enrollment of the host's machine id with a new key
 * takes the host over, within {@link KEY_REPLACEMENT_WINDOW_MS}.
 */
export const ReplaceHostKeyRequest = z
  .object({
    publicKey: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}$/, 'a raw Ed25519 public key is 32 bytes (43 base64url characters)')
      .optional(),
  })
  .meta({ id: 'ReplaceHostKeyRequest' });
export type ReplaceHostKeyRequest = z.infer<typeof ReplaceHostKeyRequest>;

export const HostKeyReplacement = z
  .object({
    hostId: z.uuid(),
    /** True when the request carried the new key and it is in place. */
    replaced: z.boolean(),
    /** When a key was not given: until when the machine's next enrollment may take the host over. */
    keyReplaceUntil: z.iso.datetime().nullable(),
  })
  .meta({ id: 'HostKeyReplacement' });
export type HostKeyReplacement = z.infer<typeof HostKeyReplacement>;
