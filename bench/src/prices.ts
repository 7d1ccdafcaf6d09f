/**
 * List prices the `cost` benchmark multiplies its measured figures by. Dated: prices change, and a figure is
 * only as current as this table. Each line names the page it was read from; where a page could not be read
 * from this machine, the figure is the one the issue (13) gave, and `checked` says so.
 */
export const PRICES_AS_OF = '2026-11';

export interface Price {
  /** US dollars per `per` units of `unit`. */
  usd: number;
  per: number;
  unit: string;
  /** Included in the plan's monthly fee, per account (0 when nothing is). */
  included: number;
  source: string;
  /** How the figure was checked. */
  checked: string;
}

const WORKERS_PRICING = 'https://developers.cloudflare.com/workers/platform/pricing/';
const DO_PRICING = 'https://developers.cloudflare.com/durable-objects/platform/pricing/';
const NEON_PLANS = 'https://neon.com/docs/introduction/plans';

export const PRICES = {
  /** Workers Paid: the account's monthly fee, which carries the included amounts below. */
  workersPaidMonthly: {
    usd: 5,
    per: 1,
    unit: 'account-month',
    included: 0,
    source: WORKERS_PRICING,
    checked: 'as given in issue 13',
  },
  workerRequests: {
    usd: 0.3,
    per: 1e6,
    unit: 'requests',
    included: 10e6,
    source: WORKERS_PRICING,
    checked: 'as given in issue 13',
  },
  workerCpuMs: {
    usd: 0.02,
    per: 1e6,
    unit: 'CPU-ms',
    included: 30e6,
    source: WORKERS_PRICING,
    checked: 'as given in issue 13',
  },
  /** HTTP requests, RPC sessions and alarms; incoming WebSocket messages count 1/20 of a request. */
  doRequests: {
    usd: 0.15,
    per: 1e6,
    unit: 'requests',
    included: 1e6,
    source: DO_PRICING,
    checked: 'read 2026-11 (search of the stored page): $0.15/M beyond 1 M; WebSocket messages 20:1',
  },
  doDuration: {
    usd: 12.5,
    per: 1e6,
    unit: 'GB-s',
    included: 400_000,
    source: DO_PRICING,
    checked:
      'read 2026-11: 400,000 GB-s included, then $12.50/M; billed while running or idle but unable to hibernate, not while idle and eligible to hibernate',
  },
  doRowsWritten: {
    usd: 1,
    per: 1e6,
    unit: 'SQLite rows written',
    included: 50e6,
    source: DO_PRICING,
    checked: 'as given in issue 13 (50 M included assumed)',
  },
  workersLogsEvents: {
    usd: 0.6,
    per: 1e6,
    unit: 'log events',
    included: 20e6,
    source: 'https://developers.cloudflare.com/workers/observability/logs/workers-logs/#pricing',
    checked: 'as given in issue 13 (20 M included assumed)',
  },
  /** Launch plan (the Scale plan is $0.26). 1 CU = 1 vCPU and 4 GB of memory; the smallest compute is 0.25 CU. */
  neonComputeCuHour: {
    usd: 0.14,
    per: 1,
    unit: 'CU-hours',
    included: 0,
    source: NEON_PLANS,
    checked: 'read 2026-11 (stored page): Launch $0.14/CU-hour, Scale $0.26; scale to zero after 5 min',
  },
  neonStorageGbMonth: {
    usd: 0.35,
    per: 1,
    unit: 'GB-months',
    included: 0,
    source: NEON_PLANS,
    checked: 'read 2026-11 (stored page): $0.35/GB-month on Launch and Scale',
  },
  /** Change history kept for point-in-time restore (Neon's "instant restore"). */
  neonHistoryGbMonth: {
    usd: 0.2,
    per: 1,
    unit: 'GB-months',
    included: 0,
    source: NEON_PLANS,
    checked: 'read 2026-11 (stored page): instant restore $0.20/GB-month',
  },
} as const satisfies Record<string, Price>;

/** Neon's smallest compute, and how long an idle one keeps running before it suspends. */
export const NEON_MIN_CU = 0.25;
export const NEON_AUTOSUSPEND_S = 300;
/** The memory a Durable Object is billed for, whatever it uses. */
export const DO_BILLED_GB = 0.128;
/** Hours in the month the prices are per (365 × 24 / 12). */
export const HOURS_PER_MONTH = 730;
