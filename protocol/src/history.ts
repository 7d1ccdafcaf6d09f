import * as z from 'zod';
import { AppEvent } from './ingest.ts';
import { storableText } from './storable.ts';
import { LiveSample } from './stream.ts';

/**
 * History of one host (design.md "REST API": `GET /hosts/:id/series`, `GET /hosts/:id/events`).
 * Its own module because stream.ts imports hosts.ts (HostStatus): hosts.ts importing LiveSample
 * back would be an import cycle that leaves one of them undefined at load.
 */

/** A samples answer holds at most this many points; longer ranges are thinned evenly. */
export const MAX_SERIES_POINTS = 1000;
/** The widest range `GET /hosts/:id/samples` serves (the live view's fill: recent raw samples). */
export const MAX_SERIES_RANGE_MS = 24 * 60 * 60 * 1000;
/** `from` when a samples request names none: this long before `to`. */
export const DEFAULT_SERIES_RANGE_MS = 5 * 60 * 1000;
/** `from` when an events request names none: this long before `to`. */
export const DEFAULT_EVENTS_RANGE_MS = 24 * 60 * 60 * 1000;
export const MAX_EVENTS_LIMIT = 1000;
export const DEFAULT_EVENTS_LIMIT = 100;

const isoInstant = z.iso.datetime({ offset: true });

/** Both ends optional: `to` defaults to now, `from` to a default span before `to`. */
export const HostSamplesQuery = z.object({ from: isoInstant.optional(), to: isoInstant.optional() });
export type HostSamplesQuery = z.infer<typeof HostSamplesQuery>;

export const HostEventsQuery = z.object({
  from: isoInstant.optional(),
  to: isoInstant.optional(),
  /** Only the events of this subject (e.g. one job's id): its timeline. */
  subject: storableText.min(1).max(200).optional(),
  /** Only events of this kind, e.g. `job.failed`. */
  kind: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_.:-]+$/, 'event kinds are letters, digits, _ . : -')
    .optional(),
  limit: z.coerce.number().int().min(1).max(MAX_EVENTS_LIMIT).optional(),
});
export type HostEventsQuery = z.infer<typeof HostEventsQuery>;

/**
 * One host's samples over a range, oldest first, as live charts draw them (the dashboard fills a
 * gap in its live stream with this). At most `MAX_SERIES_POINTS`: a longer range is thinned evenly.
 */
export const HostSamples = z
  .object({
    hostId: z.uuid(),
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    points: z.array(LiveSample),
  })
  .meta({ id: 'HostSamples' });
export type HostSamples = z.infer<typeof HostSamples>;

/** One host's application events over a range, newest first, at most `limit`. */
export const HostEvents = z
  .object({
    hostId: z.uuid(),
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    events: z.array(AppEvent),
  })
  .meta({ id: 'HostEvents' });
export type HostEvents = z.infer<typeof HostEvents>;

/** Hosts one sparklines request may name. */
export const MAX_SPARKLINE_HOSTS = 200;
/** Points per host in a sparklines answer; more samples in the range are thinned evenly. */
export const MAX_SPARKLINE_POINTS = 60;
/** The sparklines' window when a request names no range, and the widest range it may name. */
export const DEFAULT_SPARKLINE_RANGE_MS = 5 * 60 * 1000;
export const MAX_SPARKLINE_RANGE_MS = 15 * 60 * 1000;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `ids` is a comma-separated list of host ids (at most {@link MAX_SPARKLINE_HOSTS}, duplicates ignored). */
export const HostSparklinesQuery = z.object({
  ids: z
    .string()
    .max(MAX_SPARKLINE_HOSTS * 37)
    .transform((value) => [...new Set(value.split(',').filter((id) => id !== ''))])
    .pipe(
      z
        .array(z.string().regex(uuidPattern, 'host ids are UUIDs'))
        .min(1, 'name at least one host id')
        .max(MAX_SPARKLINE_HOSTS, `at most ${MAX_SPARKLINE_HOSTS} host ids`),
    ),
  from: isoInstant.optional(),
  to: isoInstant.optional(),
});
export type HostSparklinesQuery = z.input<typeof HostSparklinesQuery>;

/** What the host list's sparklines draw of one sample: CPU %, memory used / total (bytes), network bytes/s. */
export const SparklinePoint = z
  .object({
    ts: z.number(),
    cpu: z.number().optional(),
    memUsed: z.number().optional(),
    memTotal: z.number().optional(),
    /** Received plus sent, every interface. */
    net: z.number().optional(),
  })
  .meta({ id: 'SparklinePoint' });
export type SparklinePoint = z.infer<typeof SparklinePoint>;

/**
 * Sparkline points of several hosts in one answer, oldest first per host, at most
 * {@link MAX_SPARKLINE_POINTS} each. Ids that are not the organisation's hosts are left out.
 */
export const HostSparklines = z
  .object({
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    hosts: z.array(z.object({ hostId: z.uuid(), points: z.array(SparklinePoint) })),
  })
  .meta({ id: 'HostSparklines' });
export type HostSparklines = z.infer<typeof HostSparklines>;
