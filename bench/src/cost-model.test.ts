import { describe, expect, it } from 'vitest';
import { type CostInputs, costPerHostMonth, overSocketInputs } from './cost-model.ts';

const inputs: CostInputs = {
  hosts: 1000,
  pushIntervalS: 30,
  workerRequestsPerPush: 1,
  workerCpuMsPerPush: 10,
  doRequestsPerPush: 1,
  doActiveMsPerPush: 5,
  doRowsWrittenPerPush: 0,
  logEventsPerPush: 2,
  dbCpuMsPerPush: 6,
  storageBytesPerHost: 67e6,
  historyBytesPerHost: 0,
};
const usd = (name: string, b = costPerHostMonth(inputs)) => b.lines.find((l) => l.name === name)?.perHostUsd;

describe('costPerHostMonth', () => {
  it('counts pushes per host in a 730-hour month', () => {
    expect(costPerHostMonth(inputs).pushesPerHostMonth).toBe(87_600);
  });

  it('bills the fleet after the included amounts and spreads it over the hosts', () => {
    // 87.6 M requests − 10 M included = 77.6 M × $0.30/M = $23.28 for 1,000 hosts.
    expect(usd('Workers requests')).toBeCloseTo(0.02328, 8);
    // 876 M CPU-ms − 30 M = 846 M × $0.02/M = $16.92.
    expect(usd('Workers CPU')).toBeCloseTo(0.01692, 8);
    // 87.6 M − 1 M = 86.6 M × $0.15/M = $12.99.
    expect(usd('Durable Object requests')).toBeCloseTo(0.01299, 8);
    // 87.6 M pushes × 5 ms × 0.128 GB = 56,064 GB-s: under the 400,000 included.
    expect(usd('Durable Object duration')).toBe(0);
    expect(usd('Durable Object rows written')).toBe(0);
    // 175.2 M events − 20 M = 155.2 M × $0.60/M = $93.12.
    expect(usd('Workers Logs events')).toBeCloseTo(0.09312, 8);
    // 67 GB × $0.35.
    expect(usd('Neon storage')).toBeCloseTo(0.02345, 8);
    expect(usd('Workers Paid plan fee')).toBe(0.005);
  });

  it('sizes Neon from the database CPU per push, never below its smallest compute, and never suspended', () => {
    const small = costPerHostMonth(inputs);
    // 33.3 pushes/s × 6 ms = 0.2 vCPU → the 0.25 CU minimum, all 730 hours: 182.5 CU-h × $0.14 = $25.55.
    expect(small.neon).toMatchObject({ cu: 0.25, alwaysOn: true, cuHours: 182.5 });
    expect(small.neon.requiredVcpu).toBeCloseTo(0.2, 10);
    expect(usd('Neon compute', small)).toBeCloseTo(0.02555, 8);
    // 33.3 × 20 ms = 0.67 vCPU → 0.75 CU.
    expect(costPerHostMonth({ ...inputs, dbCpuMsPerPush: 20 }).neon.cu).toBe(0.75);
  });

  it('lets a compute suspend only when pushes are further apart than the autosuspend delay', () => {
    const lonely = costPerHostMonth({ ...inputs, hosts: 1, pushIntervalS: 600 });
    expect(lonely.neon.alwaysOn).toBe(false);
    expect(lonely.neon.cuHours).toBeCloseTo(0.25 * 730 * 0.5, 10);
  });

  it('names the dominant line and checks the bar', () => {
    const b = costPerHostMonth(inputs);
    expect(b.dominant).toBe('Workers Logs events');
    const total = b.lines.reduce((sum, l) => sum + l.perHostUsd, 0);
    expect(b.perHostMonthUsd).toBeCloseTo(total, 12);
    expect(b.met).toBe(false);
    // What one more host adds, with nothing included: 87,600 × $0.30/M = $0.02628 for requests alone.
    expect(b.lines.find((l) => l.name === 'Workers requests')?.marginalPerHostUsd).toBeCloseTo(0.02628, 8);
  });
});

describe('overSocketInputs', () => {
  it('drops the Worker request, its CPU and the log events, and bills one object request per 20 messages', () => {
    const socket = overSocketInputs(inputs, 40);
    expect(socket).toMatchObject({
      workerRequestsPerPush: 0,
      workerCpuMsPerPush: 0,
      doRequestsPerPush: 1 / 20,
      logEventsPerPush: 0,
      // Unmeasured: the object active for the HTTP push's round trip, the HTTP run's database CPU.
      doActiveMsPerPush: 40,
      dbCpuMsPerPush: 6,
    });
    expect(usd('Workers requests', costPerHostMonth(socket))).toBe(0);
  });

  it("prices the socket path's own measured figures when it ran", () => {
    const socket = overSocketInputs(inputs, 40, { workerdCpuMsPerBatch: 2, dbCpuMsPerBatch: 1.5, ackMsP50: 12 });
    expect(socket.dbCpuMsPerPush).toBe(1.5);
    expect(socket.doActiveMsPerPush).toBe(12);
    // 33.3 batches/s × 1.5 ms = 0.05 vCPU: Neon's smallest compute.
    expect(costPerHostMonth(socket).neon.cu).toBe(0.25);
    // The object cannot be active for less than its CPU per batch.
    expect(
      overSocketInputs(inputs, 40, { workerdCpuMsPerBatch: 20, dbCpuMsPerBatch: 1.5, ackMsP50: 12 }).doActiveMsPerPush,
    ).toBe(20);
  });
});
