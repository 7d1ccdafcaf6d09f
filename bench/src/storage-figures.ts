import { type HistoryTier, historyTiers } from '@pulsewire/protocol';
import type { SizeTotals } from './relation-sizes.ts';

/** The byte bar (design.md, "Performance bars"): all tiers of one host's day, MB as 10^6 bytes. */
export const STORAGE_BAR_BYTES = 1_000_000;

export type Tier = HistoryTier;
export const TIERS = historyTiers;

export interface StorageMeasurement {
  /** Each chunk tier's partitions, summed. */
  tiers: Record<Tier, SizeTotals>;
  /**
   * Of the tiers' bytes, what each table costs whatever it holds: its free-space and visibility maps, and the
   * empty default partitions. Spread over the hosts sharing a partition: 4 here, thousands in production.
   */
  fixedBytes: number;
  /** Host-days the chunk tiers hold (hosts × days). */
  hostDays: number;
  /** Values (one series at one time) one host produces in a day. */
  valuesPerHostDay: number;
  /** The landing tables' partitions while they held `landingHostHours` of rows. */
  landing: SizeTotals;
  landingHostHours: number;
  /** Hours of landing rows a host has at any time in steady state (compacted hours kept for late batches, the open one). */
  landingWindowHours: number;
  /** The old layout (jsonb row per sample, row per custom point) holding `baselineHostDays` of the same host. */
  baseline: SizeTotals;
  baselineHostDays: number;
  baselineValuesPerHostDay: number;
  /** Days each tier is kept by default. */
  retentionDays: Record<Tier, number>;
}

export interface StorageFigures {
  /** Bytes per host per day, per tier and all tiers together. */
  perHostDay: Record<Tier | 'total', number>;
  bytesPerValue: number;
  /** The fixed per-table costs within the total, per host-day (see `fixedBytes`). */
  fixedPerHostDay: number;
  landing: { perHostHour: number; perHost: number };
  baseline: { perHostDay: number; bytesPerValue: number };
  /** all tiers ÷ baseline, per host-day. */
  ratio: number;
  met: boolean;
  /** What one host occupies once every tier is full at default retention, with its landing window. */
  steadyStatePerHost: number;
}

export function storageFigures(m: StorageMeasurement): StorageFigures {
  const per = (bytes: number) => bytes / m.hostDays;
  const perHostDay = { total: 0 } as Record<Tier | 'total', number>;
  for (const tier of TIERS) {
    perHostDay[tier] = per(m.tiers[tier].total);
    perHostDay.total += perHostDay[tier];
  }
  const baselinePerHostDay = m.baseline.total / m.baselineHostDays;
  const landingPerHostHour = m.landing.total / m.landingHostHours;
  const landingPerHost = landingPerHostHour * m.landingWindowHours;
  return {
    perHostDay,
    bytesPerValue: perHostDay.total / m.valuesPerHostDay,
    fixedPerHostDay: per(m.fixedBytes),
    landing: { perHostHour: landingPerHostHour, perHost: landingPerHost },
    baseline: { perHostDay: baselinePerHostDay, bytesPerValue: baselinePerHostDay / m.baselineValuesPerHostDay },
    ratio: perHostDay.total / baselinePerHostDay,
    met: perHostDay.total <= STORAGE_BAR_BYTES,
    steadyStatePerHost: TIERS.reduce((sum, tier) => sum + perHostDay[tier] * m.retentionDays[tier], landingPerHost),
  };
}
