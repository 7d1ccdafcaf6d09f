import {
  type AppEvent,
  customPoints,
  type RuleInput,
  RuleInput as RuleSchema,
  type Sample,
  samplePoints,
} from '@pulsewire/protocol';
import type { EngineHost, EngineRule, HostObservation } from './types.ts';

/** Builders shared by the alert engine's tests. */

export const T0 = 1_800_000_000_000;
export const SECOND = 1000;
export const MINUTE = 60_000;

let ruleCounter = 0;

export function rule(input: RuleInput, id?: string): EngineRule {
  ruleCounter++;
  return {
    id: id ?? `00000000-0000-4000-8000-${String(ruleCounter).padStart(12, '0')}`,
    spec: RuleSchema.parse(input),
    updatedAt: T0,
  };
}

export function host(n: number, labels: Record<string, string> = {}): EngineHost {
  return { id: `10000000-0000-4000-8000-${String(n).padStart(12, '0')}`, name: `web-${n}`, labels };
}

export interface SampleValues {
  cpu?: number;
  mem?: number;
  disks?: Record<string, number>;
}

/** A realistic host sample: CPU, load, memory, three mounts, disk I/O, two interfaces, processes, agent. */
export function sample(ts: number, v: SampleValues = {}): Sample {
  const cpu = v.cpu ?? 20;
  const total = 16e9;
  const mem = v.mem ?? 40;
  const disks = v.disks ?? { '/': 50, '/var': 30, '/home': 10 };
  return {
    ts,
    cpu: { total: cpu, user: cpu * 0.6, system: cpu * 0.3, iowait: 1, steal: 0, perCore: [cpu, cpu] },
    load: { 1: 0.5, 5: 0.4, 15: 0.3 },
    memory: {
      total,
      used: (total * mem) / 100,
      available: total * (1 - mem / 100),
      cached: 1e9,
      swapTotal: 2e9,
      swapUsed: 1e8,
    },
    disks: Object.entries(disks).map(([mount, usedPct]) => ({
      mount,
      fs: '/dev/sda1',
      type: 'ext4',
      size: 100e9,
      used: usedPct * 1e9,
      usedPct,
    })),
    diskIo: { readBytesPerSec: 1e5, writeBytesPerSec: 2e5, readOpsPerSec: 10, writeOpsPerSec: 20 },
    net: ['eth0', 'eth1'].map((iface) => ({
      iface,
      rxBytesPerSec: 1e4,
      txBytesPerSec: 2e4,
      rxPacketsPerSec: 10,
      txPacketsPerSec: 10,
      rxErrors: 0,
      txErrors: 0,
      rxTotal: 1e9,
      txTotal: 1e9,
    })),
    processes: { total: 200, running: 1, sleeping: 199, blocked: 0, topCpu: [], topMem: [] },
    agent: { cpuPct: 0.5, rssBytes: 5e7, queueDepth: 0, spoolDepth: 0 },
  };
}

export interface BatchOptions {
  /** Sample times (oldest first) and their values. */
  samples?: { ts: number; values?: SampleValues }[];
  custom?: Parameters<typeof customPoints>[0][];
  events?: AppEvent[];
  bootTime?: number;
  pushIntervalMs?: number;
}

export function observation(h: EngineHost, options: BatchOptions = {}): HostObservation {
  const obs: HostObservation = {
    host: h,
    samples: (options.samples ?? []).map((s) => ({ ts: s.ts, points: samplePoints(sample(s.ts, s.values)) })),
    custom: (options.custom ?? []).map((m) => ({ ts: m.ts, points: customPoints(m) })),
    events: options.events ?? [],
    pushIntervalMs: options.pushIntervalMs ?? 30_000,
  };
  if (options.bootTime !== undefined) obs.bootTime = options.bootTime;
  return obs;
}

/** One batch with one sample at `ts`. */
export function at(h: EngineHost, ts: number, values: SampleValues = {}, options: BatchOptions = {}): HostObservation {
  return observation(h, { ...options, samples: [{ ts, values }] });
}

/** The five built-in rules of the brief. */
export function defaultRules(): EngineRule[] {
  return [
    rule({
      name: 'High CPU',
      condition: {
        kind: 'threshold',
        metric: { path: 'cpu.total' },
        aggregation: 'avg',
        windowSeconds: 300,
        comparison: 'gt',
        warning: { threshold: 90, recovery: 80 },
        critical: { threshold: 97, recovery: 90 },
      },
      forSeconds: 300,
    }),
    rule({
      name: 'High memory',
      condition: {
        kind: 'threshold',
        metric: { path: 'memory.used_pct' },
        aggregation: 'avg',
        windowSeconds: 300,
        comparison: 'gt',
        warning: { threshold: 90, recovery: 85 },
        critical: { threshold: 95, recovery: 90 },
      },
      forSeconds: 300,
    }),
    rule({
      name: 'Disk almost full',
      condition: {
        kind: 'threshold',
        metric: { path: 'disk.used_pct' },
        aggregation: 'last',
        comparison: 'gt',
        warning: { threshold: 85, recovery: 80 },
        critical: { threshold: 95, recovery: 90 },
      },
    }),
    rule({ name: 'Host down', condition: { kind: 'no_data', graceIntervals: 3, level: 'critical' } }),
    rule({
      name: 'Disk full within 24 h',
      condition: {
        kind: 'forecast',
        metric: { path: 'disk.used_pct' },
        lookbackHours: 6,
        horizonHours: 24,
        comparison: 'gt',
        threshold: 100,
        level: 'warning',
      },
    }),
  ];
}
