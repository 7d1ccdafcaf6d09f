import { DEFAULT_HISTORY_RANGE_MS, HISTORY_STEPS_MS, type HistoryTier, MAX_HISTORY_POINTS } from '@pulsewire/protocol';
import { HttpError } from '../http/errors.ts';

const MINUTE = 60_000;
const QUARTER_HOUR = 15 * MINUTE;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Days each tier is kept for one organisation (its own settings, or the defaults). The 15-minute tier is kept
 * as long as the 1-minute one (retention.ts).
 */
export interface TierRetention {
  raw: number;
  '1m': number;
  '1h': number;
}

export interface HistoryPlan {
  from: number;
  to: number;
  stepMs: number;
  tier: HistoryTier;
  /** The oldest time kept at all (the 1 h tier's reach), and whether the range asked started before it. */
  oldest: number;
  clipped: boolean;
}

const TIER_BUCKET: Record<HistoryTier, number> = { raw: 1_000, '1m': MINUTE, '15m': QUARTER_HOUR, '1h': HOUR };
const TIER_RESOLUTION: Record<HistoryTier, [string, string]> = {
  raw: ['raw', '1s'],
  '1m': ['1-minute', '1m'],
  '15m': ['15-minute', '15m'],
  '1h': ['1-hour', '1h'],
};
/** The idle collection interval, and the longest range drawn at 1 s (a live view's window and a bit). */
const COLLECTION_STEP_MS = 10_000;
const LIVE_RANGE_MS = 15 * MINUTE;

function instant(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  // z.iso.datetime checks the shape; a day the month does not have (Date.parse reads Feb 30 as Mar 2) or a time
  // Postgres cannot hold is caught here.
  const [, y, m, d] = /^(\d{4})-(\d{2})-(\d{2})/.exec(value) ?? [];
  const daysInMonth = new Date(Date.UTC(Number(y), Number(m), 0)).getUTCDate();
  if (!Number.isFinite(ms) || Number(d) > daysInMonth || ms < Date.UTC(-4712, 0, 1) || ms > Date.UTC(9999, 11, 31)) {
    throw new HttpError(422, 'invalid_date', `query.${field}: not a date the history can hold`, {
      path: `query.${field}`,
    });
  }
  return ms;
}

/**
 * What a history request reads: the range, the step and the tier. The tier follows the step (raw points
 * under a minute, 15-minute rollups for whole quarter hours under an hour, 1-minute rollups for the other
 * steps under an hour, 1-hour rollups beyond), moved up when the range starts before the finer tier's
 * retention, so a long range never reads raw data and never asks for points that were rolled away. Steps over
 * a minute are whole minutes, over an hour whole hours, so buckets line up with the rollups'.
 */
export function planHistory(
  query: {
    from?: string | undefined;
    to?: string | undefined;
    step?: number | undefined;
    maxPoints?: number | undefined;
  },
  retention: TierRetention,
  now: number,
): HistoryPlan {
  const to = instant(query.to, 'to') ?? now;
  const askedFrom = instant(query.from, 'from') ?? to - DEFAULT_HISTORY_RANGE_MS;
  if (askedFrom >= to) {
    throw new HttpError(422, 'invalid_range', 'query.from: must be before to', { path: 'query.from' });
  }
  const oldest = Math.floor((now - retention['1h'] * DAY) / HOUR) * HOUR;
  if (to <= oldest) {
    throw new HttpError(
      422,
      'beyond_retention',
      `query.to: history is kept back to ${new Date(oldest).toISOString()}`,
      {
        path: 'query.to',
      },
    );
  }
  const from = Math.max(askedFrom, oldest);
  const maxPoints = query.maxPoints ?? MAX_HISTORY_POINTS;

  let stepMs: number;
  if (query.step !== undefined) {
    stepMs = query.step;
    if (stepMs < 1_000 || (stepMs >= MINUTE && stepMs % MINUTE !== 0) || (stepMs >= HOUR && stepMs % HOUR !== 0)) {
      throw new HttpError(
        422,
        'invalid_step',
        'query.step: at least 1s; whole minutes above a minute, whole hours above an hour',
        {
          path: 'query.step',
        },
      );
    }
  } else {
    // Hosts collect every 10 s unless watched live (1 s): a finer step over a longer range would only draw
    // every other bucket empty.
    const finest = to - from > LIVE_RANGE_MS ? COLLECTION_STEP_MS : 1_000;
    stepMs =
      HISTORY_STEPS_MS.find(
        (step) => step >= finest && Math.ceil((to - Math.floor(from / step) * step) / step) <= maxPoints,
      ) ?? (HISTORY_STEPS_MS[HISTORY_STEPS_MS.length - 1] as number);
  }

  // The finest tier the step allows, then coarser while the range starts before that tier's retention.
  const keeps = (tier: keyof TierRetention) => from >= now - retention[tier] * DAY;
  let tier: HistoryTier = stepMs >= HOUR ? '1h' : stepMs >= MINUTE ? '1m' : 'raw';
  if (tier === 'raw' && !keeps('raw')) tier = '1m';
  if (tier === '1m' && !keeps('1m')) tier = '1h';
  if (stepMs < TIER_BUCKET[tier]) {
    if (query.step !== undefined) {
      const [resolution, step] = TIER_RESOLUTION[tier];
      throw new HttpError(
        422,
        'step_below_resolution',
        `query.step: data from ${new Date(from).toISOString()} is kept at ${resolution} resolution; use a step of ${step} or more`,
        { path: 'query.step' },
      );
    }
    stepMs = TIER_BUCKET[tier];
    while (Math.ceil((to - Math.floor(from / stepMs) * stepMs) / stepMs) > maxPoints) {
      stepMs = HISTORY_STEPS_MS.find((step) => step > stepMs) ?? stepMs * 2;
    }
  }
  // Whole quarter hours read the 15-minute tier (kept as long as the 1-minute one): a week's chart decodes 96
  // buckets a day rather than 1,440.
  if (tier === '1m' && stepMs % QUARTER_HOUR === 0) tier = '15m';
  if (Math.ceil((to - Math.floor(from / stepMs) * stepMs) / stepMs) > MAX_HISTORY_POINTS) {
    throw new HttpError(422, 'too_many_points', `query.step: the range holds more than ${MAX_HISTORY_POINTS} steps`, {
      path: 'query.step',
    });
  }
  return { from, to, stepMs, tier, oldest, clipped: askedFrom < oldest };
}
