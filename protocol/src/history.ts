import { z } from 'zod';
import { AppEvent } from './ingest.ts';
import { LiveSample } from './stream.ts';

/**
 * History of one host (design.md "REST API": `GET /hosts/:id/series`, `GET /hosts/:id/events`).
 * Its own module because stream.ts imports hosts.ts (HostStatus): hosts.ts importing LiveSample
 * back would be an import cycle that leaves one of them undefined at load.
 */

/** A series answer holds at most this many points; longer ranges are thinned evenly. */
export const MAX_SERIES_POINTS = 1000;
/** The widest range `GET /hosts/:id/series` serves (raw tier only, for now). */
export const MAX_SERIES_RANGE_MS = 24 * 60 * 60 * 1000;
/** `from` when a series request names none: this long before `to`. */
export const DEFAULT_SERIES_RANGE_MS = 5 * 60 * 1000;
/** `from` when an events request names none: this long before `to`. */
export const DEFAULT_EVENTS_RANGE_MS = 24 * 60 * 60 * 1000;
export const MAX_EVENTS_LIMIT = 1000;
export const DEFAULT_EVENTS_LIMIT = 100;

const isoInstant = z.iso.datetime({ offset: true });

/** Both ends optional: `to` defaults to now, `from` to a default span before `to`. */
export const HostSeriesQuery = z.object({ from: isoInstant.optional(), to: isoInstant.optional() });
export type HostSeriesQuery = z.infer<typeof HostSeriesQuery>;

export const HostEventsQuery = z.object({
  from: isoInstant.optional(),
  to: isoInstant.optional(),
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
export const HostSeries = z
  .object({
    hostId: z.uuid(),
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    points: z.array(LiveSample),
  })
  .meta({ id: 'HostSeries' });
export type HostSeries = z.infer<typeof HostSeries>;

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
