/**
 * Cost per host-month: the measured per-push figures times pushes per month, billed for a fleet of hosts
 * sharing one account and one Neon database (the plan's included amounts and monthly fee spread over them),
 * at the list prices of prices.ts. Plain arithmetic, unit-tested; the `cost` bench supplies the figures.
 */
import { DO_BILLED_GB, HOURS_PER_MONTH, NEON_AUTOSUSPEND_S, NEON_MIN_CU, PRICES, type Price } from './prices.ts';

export const COST_BAR_USD = 0.05;
/** Neon sizes compute in quarter CUs. */
const CU_STEP = 0.25;

export interface CostInputs {
  hosts: number;
  pushIntervalS: number;
  workerRequestsPerPush: number;
  workerCpuMsPerPush: number;
  doRequestsPerPush: number;
  /** Wall time the tenant object is active per push (it is hibernation-eligible otherwise). */
  doActiveMsPerPush: number;
  doRowsWrittenPerPush: number;
  logEventsPerPush: number;
  /** Postgres CPU per push: what sizes the Neon compute. */
  dbCpuMsPerPush: number;
  /** One host's data at default retention. */
  storageBytesPerHost: number;
  /** One host's share of the change history kept for point-in-time restore. */
  historyBytesPerHost: number;
}

export interface CostLine {
  name: string;
  /** Per host per month, in `unit`. */
  perHost: number;
  unit: string;
  /** The fleet's bill for this line per month, after the included amount. */
  fleetUsd: number;
  perHostUsd: number;
  /** Per host, at the unit price with nothing included (what one more host adds). */
  marginalPerHostUsd: number;
}

export interface CostBreakdown {
  pushesPerHostMonth: number;
  neon: { requiredVcpu: number; cu: number; alwaysOn: boolean; cuHours: number };
  lines: CostLine[];
  perHostMonthUsd: number;
  marginalPerHostMonthUsd: number;
  /** The line that costs most per host. */
  dominant: string;
  met: boolean;
}

function line(name: string, price: Price, perHost: number, hosts: number): CostLine {
  const fleet = perHost * hosts;
  const fleetUsd = (Math.max(0, fleet - price.included) * price.usd) / price.per;
  return {
    name,
    perHost,
    unit: price.unit,
    fleetUsd,
    perHostUsd: fleetUsd / hosts,
    marginalPerHostUsd: (perHost * price.usd) / price.per,
  };
}

export function costPerHostMonth(input: CostInputs): CostBreakdown {
  const pushes = (HOURS_PER_MONTH * 3600) / input.pushIntervalS;
  const { hosts } = input;
  // The fleet's pushes arrive every pushIntervalS / hosts seconds on average: far more often than Neon's
  // autosuspend delay, so the compute never suspends and runs all month at the size the load needs.
  const fleetIntervalS = input.pushIntervalS / hosts;
  const alwaysOn = fleetIntervalS < NEON_AUTOSUSPEND_S;
  const requiredVcpu = ((hosts / input.pushIntervalS) * input.dbCpuMsPerPush) / 1000;
  const cu = Math.max(NEON_MIN_CU, Math.ceil(requiredVcpu / CU_STEP - 1e-9) * CU_STEP);
  // Otherwise each push keeps it up for the autosuspend delay.
  const cuHours = cu * HOURS_PER_MONTH * (alwaysOn ? 1 : NEON_AUTOSUSPEND_S / fleetIntervalS);
  const lines: CostLine[] = [
    line('Workers requests', PRICES.workerRequests, pushes * input.workerRequestsPerPush, hosts),
    line('Workers CPU', PRICES.workerCpuMs, pushes * input.workerCpuMsPerPush, hosts),
    line('Durable Object requests', PRICES.doRequests, pushes * input.doRequestsPerPush, hosts),
    line('Durable Object duration', PRICES.doDuration, pushes * (input.doActiveMsPerPush / 1000) * DO_BILLED_GB, hosts),
    line('Durable Object rows written', PRICES.doRowsWritten, pushes * input.doRowsWrittenPerPush, hosts),
    line('Workers Logs events', PRICES.workersLogsEvents, pushes * input.logEventsPerPush, hosts),
    line('Neon compute', PRICES.neonComputeCuHour, cuHours / hosts, hosts),
    line('Neon storage', PRICES.neonStorageGbMonth, input.storageBytesPerHost / 1e9, hosts),
    line('Neon restore history', PRICES.neonHistoryGbMonth, input.historyBytesPerHost / 1e9, hosts),
  ];
  const fee = PRICES.workersPaidMonthly.usd;
  lines.push({
    name: 'Workers Paid plan fee',
    perHost: 1 / hosts,
    unit: 'account-month',
    fleetUsd: fee,
    perHostUsd: fee / hosts,
    marginalPerHostUsd: 0,
  });
  const perHostMonthUsd = lines.reduce((sum, l) => sum + l.perHostUsd, 0);
  const dominant = [...lines].sort((a, b) => b.perHostUsd - a.perHostUsd)[0] as CostLine;
  return {
    pushesPerHostMonth: pushes,
    neon: { requiredVcpu, cu, alwaysOn, cuHours },
    lines,
    perHostMonthUsd,
    marginalPerHostMonthUsd: lines.reduce((sum, l) => sum + l.marginalPerHostUsd, 0),
    dominant: dominant.name,
    met: perHostMonthUsd <= COST_BAR_USD,
  };
}

/** The socket path's own figures, measured under the cost bench's light load when the server has the path. */
export interface SocketPathMeasured {
  /** workerd's CPU per batch: the tenant object's work, there being no Worker request. */
  workerdCpuMsPerBatch: number;
  /** Postgres (and the pooler's) CPU per batch, as `dbCpuMsPerPush`. */
  dbCpuMsPerBatch: number;
  /** A batch message's send to its `ack`, the median. */
  ackMsP50: number;
}

/**
 * Stored batches over the agent's control socket instead of HTTP, from the HTTP inputs: no Worker request and
 * no Worker CPU per batch (the object does the work, and Durable Objects bill duration, not CPU); an incoming
 * WebSocket message is 1/20 of an object request; no log event (invocation logs are off). The object is active
 * from a batch's message to its `ack`, waiting on Postgres included.
 *
 * With the socket path measured: its database CPU per batch (one statement for the tenant's pending batches, on
 * the object's connection), and the object active for the measured send → ack median, or its CPU per batch if
 * that is longer (it cannot be active for less). Without: HTTP's database CPU, and the object active for
 * `fallbackActiveMs` (the HTTP push's round trip), a model from the HTTP run alone.
 */
export function overSocketInputs(
  http: CostInputs,
  fallbackActiveMs: number,
  measured?: SocketPathMeasured,
): CostInputs {
  return {
    ...http,
    workerRequestsPerPush: 0,
    workerCpuMsPerPush: 0,
    doRequestsPerPush: 1 / 20,
    doActiveMsPerPush: measured ? Math.max(measured.ackMsP50, measured.workerdCpuMsPerBatch) : fallbackActiveMs,
    logEventsPerPush: 0,
    dbCpuMsPerPush: measured ? measured.dbCpuMsPerBatch : http.dbCpuMsPerPush,
  };
}
