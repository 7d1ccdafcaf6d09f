import * as z from 'zod';
import { metricUnits } from './metric-catalog.ts';

/**
 * The history API (design.md "Storage"; `GET /hosts/:id/series`, `GET /series/compare`,
 * `GET /hosts/:id/series/export`): any series over any range, in step-aligned UTC buckets read from the
 * tier the range calls for, so a chart gets at most about a thousand points per series.
 */

/** The most points per series an answer holds; `maxPoints` defaults to it. */
export const MAX_HISTORY_POINTS = 1000;
/** Series entries one request may name (each a key or a metric path), and series one answer may hold. */
export const MAX_HISTORY_SERIES = 20;
export const MAX_HISTORY_RESOLVED_SERIES = 64;
/** Hosts one compare request may name. */
export const MAX_COMPARE_HOSTS = 20;
/** `from` when a request names none: this long before `to`. */
export const DEFAULT_HISTORY_RANGE_MS = 60 * 60 * 1000;

/** The steps a chart may use (ms): step-aligned buckets of these sizes line up across tiers and charts. */
export const HISTORY_STEPS_MS = [
  1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000,
  7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 604_800_000,
] as const;

export const historyTiers = ['raw', '1m', '15m', '1h'] as const;
export type HistoryTier = (typeof historyTiers)[number];

const isoInstant = z.iso.datetime({ offset: true });

const durationUnits = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `10s`, `5m`, `1h`, `1d`, or plain seconds; the value in ms. */
export const StepParam = z
  .string()
  .regex(/^\d{1,7}(s|m|h|d)?$/, 'a step is seconds, or a number with s, m, h or d (e.g. 10s, 5m, 1h)')
  .transform((value) => {
    const unit = (/[smhd]$/.exec(value)?.[0] ?? 's') as keyof typeof durationUnits;
    return Number.parseInt(value, 10) * durationUnits[unit];
  });

/** A series entry: an exact key (`disk.used_pct{mount="/"}`) or a metric path (`disk.used_pct`: every mount). */
const seriesLabel = String.raw`[A-Za-z_][A-Za-z0-9_]*="(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"`;
const seriesNamePattern = new RegExp(
  String.raw`^[A-Za-z_][A-Za-z0-9_.:-]*(?:\{(?:${seriesLabel}(?:,${seriesLabel})*)?\})?$`,
);

/** A series entry: an exact key (`disk.used_pct{mount="/"}`, labels as `seriesKey` writes them) or a metric path. */
export const SeriesName = z
  .string()
  .min(1)
  .max(400)
  .regex(seriesNamePattern, 'a series is a metric path, optionally with {name="value",…} labels');

/** `series` may repeat (`?series=cpu.total&series=memory.used_pct`) or list names separated by `;`. */
const SeriesList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    [...new Set((Array.isArray(value) ? value : [value]).flatMap((v) => v.split(';')))].filter(Boolean),
  )
  .pipe(z.array(SeriesName).min(1, 'name at least one series'));

const rangeFields = {
  from: isoInstant.optional(),
  to: isoInstant.optional(),
  /** Bucket size; when absent the smallest standard step giving at most `maxPoints` buckets. */
  step: StepParam.optional(),
  maxPoints: z.coerce.number().int().min(1).max(MAX_HISTORY_POINTS).optional(),
};

export const HistorySeriesQuery = z.object({ series: SeriesList, ...rangeFields });
export type HistorySeriesQuery = z.input<typeof HistorySeriesQuery>;

export const CompareQuery = z.object({
  series: SeriesName,
  hosts: z
    .string()
    .max(MAX_COMPARE_HOSTS * 37)
    .transform((value) => [...new Set(value.split(',').filter(Boolean))])
    .pipe(z.array(z.uuid()).min(1, 'name at least one host id').max(MAX_COMPARE_HOSTS)),
  ...rangeFields,
});
export type CompareQuery = z.input<typeof CompareQuery>;

export const exportFormats = ['csv', 'ndjson'] as const;
export const ExportQuery = z.object({
  series: SeriesList,
  from: isoInstant.optional(),
  to: isoInstant.optional(),
  format: z.enum(exportFormats).default('csv'),
});
export type ExportQuery = z.input<typeof ExportQuery>;

const nullableNumbers = z.array(z.number().nullable());

/** One series' buckets: min, avg and max per bucket, `null` where the bucket holds no value (never 0). */
export const HistorySeriesData = z
  .object({
    key: z.string(),
    metric: z.string(),
    labels: z.record(z.string(), z.string()),
    unit: z.enum(metricUnits),
    min: nullableNumbers,
    avg: nullableNumbers,
    max: nullableNumbers,
  })
  .meta({ id: 'HistorySeriesData' });
export type HistorySeriesData = z.infer<typeof HistorySeriesData>;

const answerFields = {
  /** The bucketed range: `from` rounded down to the step, `to` as asked. */
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  stepMs: z.number().int().positive(),
  /** Where the points come from: raw points, or 1-minute / 15-minute / 1-hour min/avg/max rollups. */
  tier: z.enum(historyTiers),
  /** Every bucket's start (epoch ms), empty buckets included. */
  timestamps: z.array(z.number()),
  /**
   * The oldest time this answer's history reaches back to for this organisation (ISO); `clipped` when the
   * range asked started before it: the answer holds what exists.
   */
  retention: z.object({ oldest: z.iso.datetime(), clipped: z.boolean() }),
  /** Part of the range was not compacted yet and not read (the history jobs are behind). */
  incomplete: z.boolean(),
};

export const HistorySeries = z
  .object({ hostId: z.uuid(), ...answerFields, series: z.array(HistorySeriesData) })
  .meta({ id: 'HistorySeries' });
export type HistorySeries = z.infer<typeof HistorySeries>;

export const CompareSeries = z
  .object({
    ...answerFields,
    hosts: z.array(z.object({ hostId: z.uuid(), name: z.string(), series: z.array(HistorySeriesData) })),
  })
  .meta({ id: 'CompareSeries' });
export type CompareSeries = z.infer<typeof CompareSeries>;
