import type { HostFacts, Sample } from '@pulsewire/protocol';
import { clamp, gaussian, pages, round, smooth, streamId, uniform } from './noise.ts';

/**
 * A synthetic Linux server that looks like what the agent sends: 16 cores busy on a daily rhythm with noise
 * and spikes, memory wandering in whole pages, two NVMe drives and a backup disk (four filesystems filling
 * slowly, pruned weekly), disk and network bursts, two NICs and the Docker bridge, an optional GPU running
 * jobs, five containers, a reboot every 30 days (counters restart). About 100 values per 10 s sample with its
 * custom metrics: the reference host of design.md's storage budget (issue 12).
 *
 * Every value is a function of (seed, ts) alone, so any range can be generated in any order, in pieces, and
 * come out the same. Values are rounded as the agent rounds them. Sections the agent throttles are absent
 * where it would leave them out at the 1 s live cadence: containers and processes appear on 5 s boundaries,
 * GPUs on 2 s boundaries (always at 10 s).
 */

export interface SyntheticHostOptions {
  /** GPUs on the host (0 or more, default 1). */
  gpus?: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

export const SYNTHETIC_CORES = 16;
export const SYNTHETIC_MEM_TOTAL = 32 * GIB;
const SWAP_TOTAL = 4 * GIB;
const BOOT_PERIOD = 30 * DAY;

const s = (name: string) => streamId(name);

/** 0 at night, 1 mid-afternoon (UTC), quieter at weekends. */
function activity(ts: number): number {
  const hour = (((ts % DAY) + DAY) % DAY) / HOUR;
  const weekday = new Date(ts).getUTCDay();
  const weekend = weekday === 0 || weekday === 6 ? 0.6 : 1;
  return (0.5 - 0.5 * Math.cos((2 * Math.PI * (hour - 3)) / 24)) * weekend;
}

/** A short burst: during some minutes (chosen per minute, with probability `chance`), `size` × [0.5, 1.5). */
function burst(seed: number, name: string, ts: number, windowMs: number, chance: number, size: number): number {
  const window = Math.floor(ts / windowMs);
  if (uniform(seed, s(`${name}.on`), window) >= chance) return 0;
  return size * (0.5 + uniform(seed, s(`${name}.size`), window));
}

/** How busy the machine is, percent, without the per-sample noise (what load averages follow). */
function busy(seed: number, ts: number): number {
  const base = 4 + 8 * uniform(seed, s('busy.base'), 0);
  return (
    base +
    35 * activity(ts) +
    12 * smooth(seed, s('busy.slow'), ts, 45 * MINUTE) +
    6 * smooth(seed, s('busy.fast'), ts, 5 * MINUTE) +
    burst(seed, 'cpu.spike', ts, MINUTE, 0.03, 45)
  );
}

function bootTime(seed: number, ts: number): number {
  const phase = Math.floor(uniform(seed, s('boot'), 0) * BOOT_PERIOD);
  return Math.floor((ts - phase) / BOOT_PERIOD) * BOOT_PERIOD + phase;
}

function cpuSection(seed: number, ts: number): NonNullable<Sample['cpu']> {
  const load = busy(seed, ts);
  const perCore = Array.from({ length: SYNTHETIC_CORES }, (_, core) => {
    const weight = 0.6 + 0.8 * uniform(seed, s(`core${core}.weight`), 0);
    return round(clamp(load * weight + 4 * gaussian(seed, s(`core${core}`), ts), 0, 100));
  });
  const total = round(perCore.reduce((a, b) => a + b, 0) / perCore.length);
  const iowait = round(
    clamp(0.3 + 0.2 * Math.abs(gaussian(seed, s('iowait'), ts)) + ioBurst(seed, ts) / 1e7, 0, total),
  );
  const steal = round(clamp(0.05 + 0.05 * gaussian(seed, s('steal'), ts), 0, 100));
  const system = round(clamp((total - iowait) * (0.24 + 0.04 * gaussian(seed, s('system'), ts)), 0, total));
  const user = round(clamp(total - iowait - system - steal, 0, 100));
  return { total, user, system, iowait, steal, perCore, freqMhz: Math.round(2400 + 10 * load) };
}

/** Load averages: the mean busy-ness over the last 1, 5 and 15 minutes, in cores. */
function loadSection(seed: number, ts: number): NonNullable<Sample['load']> {
  const over = (minutes: number) => {
    const points = Math.min(15, minutes * 4);
    let sum = 0;
    for (let i = 0; i < points; i++) sum += busy(seed, ts - (i * minutes * MINUTE) / points);
    return round(((sum / points) * SYNTHETIC_CORES * 1.1) / 100);
  };
  return { 1: over(1), 5: over(5), 15: over(15) };
}

function memorySection(seed: number, ts: number): NonNullable<Sample['memory']> {
  const used = pages(
    (7 + 3 * uniform(seed, s('mem.base'), 0)) * GIB +
      6 * GIB * activity(ts) +
      2 * GIB * smooth(seed, s('mem.slow'), ts, 3 * HOUR) +
      300 * MIB * smooth(seed, s('mem.fast'), ts, 10 * MINUTE) +
      2 * MIB * gaussian(seed, s('mem.jitter'), ts),
  );
  const cached = pages(8 * GIB + 3 * GIB * smooth(seed, s('mem.cache'), ts, 6 * HOUR));
  const swapUsed = pages(256 * MIB + 128 * MIB * smooth(seed, s('swap'), ts, 12 * HOUR));
  return {
    total: SYNTHETIC_MEM_TOTAL,
    used,
    available: SYNTHETIC_MEM_TOTAL - used,
    cached,
    swapTotal: SWAP_TOTAL,
    swapUsed,
  };
}

const FILESYSTEMS = [
  { mount: '/', fs: '/dev/nvme0n1p2', type: 'ext4', size: 200 * GIB, base: 60 * GIB, perDay: 0.5 * GIB },
  { mount: '/var/lib/docker', fs: '/dev/nvme1n1', type: 'xfs', size: 500 * GIB, base: 210 * GIB, perDay: 2 * GIB },
  { mount: '/boot', fs: '/dev/nvme0n1p1', type: 'vfat', size: 512 * MIB, base: 180 * MIB, perDay: 0 },
  /** Nightly backups land on a spinning disk and are rotated weekly with the rest. */
  { mount: '/srv/backup', fs: '/dev/sda1', type: 'ext4', size: 4096 * GIB, base: 1600 * GIB, perDay: 60 * GIB },
];

/** Filesystems grow through the week and are pruned back every Sunday at midnight UTC (epoch weeks start Thursday). */
function disks(seed: number, ts: number): NonNullable<Sample['disks']> {
  const sinceSunday = (((ts - 3 * DAY) % WEEK) + WEEK) % WEEK;
  return FILESYSTEMS.map(({ mount, fs, type, size, base, perDay }) => {
    const used = pages(
      base + (perDay * sinceSunday) / DAY + (perDay / 8) * smooth(seed, s(`disk${mount}`), ts, 2 * HOUR),
    );
    return { mount, fs, type, size, used, usedPct: round((used / size) * 100) };
  });
}

/** Bytes per second written in bursts: checkpoints, compactions, backups. */
function ioBurst(seed: number, ts: number): number {
  return burst(seed, 'io.write', ts, 30 * SECOND, 0.06, 60 * MIB);
}

function diskIoSection(seed: number, ts: number): NonNullable<Sample['diskIo']> {
  const level = 0.3 + activity(ts);
  const read =
    150 * 1024 * level * Math.exp(0.5 * gaussian(seed, s('io.read'), ts)) +
    burst(seed, 'io.read', ts, MINUTE, 0.04, 80 * MIB);
  const write = 800 * 1024 * level * Math.exp(0.5 * gaussian(seed, s('io.write'), ts)) + ioBurst(seed, ts);
  return {
    readBytesPerSec: round(read),
    writeBytesPerSec: round(write),
    readOpsPerSec: round(read / (24 * 1024 * (0.7 + 0.6 * uniform(seed, s('io.read.size'), ts)))),
    writeOpsPerSec: round(write / (48 * 1024 * (0.7 + 0.6 * uniform(seed, s('io.write.size'), ts)))),
  };
}

function netSection(seed: number, ts: number): NonNullable<Sample['net']> {
  const uptimeS = (ts - bootTime(seed, ts)) / SECOND;
  const nightlyBackup = (((ts % DAY) + DAY) % DAY) / HOUR < 0.5 ? 40 * MIB : 0;
  const interfaces = [
    { iface: 'eth0', rxMean: 400 * 1024, txShare: 0.6, backup: nightlyBackup, errorEveryS: 5.7 * 3600 },
    /** The second NIC: database replication to a standby, and the nightly backup shipped off the host. */
    { iface: 'eth1', rxMean: 60 * 1024, txShare: 2.5, backup: nightlyBackup, errorEveryS: 0 },
    { iface: 'docker0', rxMean: 30 * 1024, txShare: 1.4, backup: 0, errorEveryS: 0 },
  ];
  return interfaces.map(({ iface, rxMean, txShare, backup, errorEveryS }) => {
    const level = 0.3 + activity(ts);
    const rx = rxMean * level * Math.exp(0.4 * gaussian(seed, s(`${iface}.rx`), ts));
    const tx = rx * txShare * Math.exp(0.3 * gaussian(seed, s(`${iface}.tx`), ts)) + backup;
    return {
      iface,
      rxBytesPerSec: round(rx),
      txBytesPerSec: round(tx),
      rxPacketsPerSec: round(rx / 900),
      txPacketsPerSec: round(tx / 1100),
      rxErrors: errorEveryS > 0 ? Math.floor(uptimeS / errorEveryS) : 0,
      txErrors: 0,
      rxTotal: Math.round(uptimeS * rxMean * 0.8),
      txTotal: Math.round(uptimeS * rxMean * 0.8 * txShare),
    };
  });
}

/** A GPU that runs training jobs in 20-minute blocks about half the time. */
function gpuSection(seed: number, ts: number, count: number): NonNullable<Sample['gpus']> {
  return Array.from({ length: count }, (_, index) => {
    const name = `gpu${index}`;
    const running = uniform(seed, s(`${name}.job`), Math.floor(ts / (20 * MINUTE))) < 0.5;
    const util = running
      ? Math.round(clamp(90 + 6 * gaussian(seed, s(`${name}.util`), ts), 0, 100))
      : Math.round(clamp(2 * Math.abs(gaussian(seed, s(`${name}.util`), ts)), 0, 100));
    const memMiB = running ? 18_000 + Math.round(1500 * smooth(seed, s(`${name}.mem`), ts, 5 * MINUTE)) : 612;
    const warmth = running ? 1 : 0;
    return {
      index,
      name: 'NVIDIA L4',
      driver: '550.127.05',
      utilPct: util,
      memUsed: memMiB * MIB,
      memTotal: 23_034 * MIB,
      tempC: Math.round(36 + 38 * warmth + 3 * smooth(seed, s(`${name}.temp`), ts, 10 * MINUTE)),
      powerW: round(clamp(16 + 0.52 * util + 3 * gaussian(seed, s(`${name}.power`), ts), 0, 72)),
      powerLimitW: 72,
    };
  });
}

const CONTAINERS = [
  { name: 'web', image: 'nginx:1.27', cpu: 2, cpuPerActivity: 10, mem: 45 * MIB, limit: SYNTHETIC_MEM_TOTAL },
  { name: 'api', image: 'ghcr.io/acme/api:2.3.1', cpu: 5, cpuPerActivity: 60, mem: 600 * MIB, limit: 2 * GIB },
  { name: 'postgres', image: 'postgres:17', cpu: 3, cpuPerActivity: 25, mem: 2.5 * GIB, limit: 8 * GIB },
  { name: 'redis', image: 'redis:7.4', cpu: 1, cpuPerActivity: 6, mem: 300 * MIB, limit: 1 * GIB },
  { name: 'worker', image: 'ghcr.io/acme/worker:2.3.1', cpu: 2, cpuPerActivity: 30, mem: 450 * MIB, limit: 2 * GIB },
];

function containerId(seed: number, name: string): string {
  const hex = (n: number) =>
    Math.floor(uniform(seed, s(`${name}.id`), n) * 2 ** 24)
      .toString(16)
      .padStart(6, '0');
  return hex(0) + hex(1);
}

/** The api container leaks memory until it restarts, and restarts now and then (one minute of `restarting`). */
function containersSection(seed: number, ts: number): NonNullable<Sample['containers']> {
  return CONTAINERS.map(({ name, image, cpu, cpuPerActivity, mem, limit }) => {
    const restarting =
      name === 'api' && uniform(seed, s('api.restart'), Math.floor(ts / HOUR)) < 0.04 && ts % HOUR < MINUTE;
    const leak = name === 'api' ? ((ts % (6 * HOUR)) / (6 * HOUR)) * 400 * MIB : 0;
    const cpuPct = restarting
      ? 0
      : round(
          Math.max(
            0,
            cpu + cpuPerActivity * activity(ts) + 0.1 * cpuPerActivity * gaussian(seed, s(`${name}.cpu`), ts),
          ),
        );
    const memUsed = restarting ? 0 : pages(mem + leak + 0.1 * mem * smooth(seed, s(`${name}.mem`), ts, 30 * MINUTE));
    const startedS = (ts % DAY) / SECOND;
    return {
      id: containerId(seed, name),
      name,
      image,
      composeService: name,
      state: restarting ? 'restarting' : 'running',
      cpuPct,
      memUsed,
      memLimit: limit,
      netRx: Math.round(startedS * 20 * 1024),
      netTx: Math.round(startedS * 35 * 1024),
      pids: restarting ? 0 : name === 'postgres' ? 24 + Math.round(8 * activity(ts)) : 12,
    };
  });
}

function processesSection(seed: number, ts: number, cpu: NonNullable<Sample['cpu']>): NonNullable<Sample['processes']> {
  const total = Math.round(310 + 40 * activity(ts) + 10 * smooth(seed, s('procs'), ts, 20 * MINUTE));
  const running = 1 + Math.floor(cpu.total / 20);
  const blocked = cpu.iowait > 2 ? 1 + Math.floor(uniform(seed, s('blocked'), ts) * 3) : 0;
  const top = (name: string, pid: number, cpuPct: number, memBytes: number) => ({
    pid,
    name,
    cpuPct,
    memBytes: Math.round(memBytes),
  });
  const topCpu = [
    top('postgres', 1201, round(cpu.total * 2.1), 1.2 * GIB),
    top('node', 1544, round(cpu.total * 1.4), 410 * MIB),
    top('nginx', 988, round(cpu.total * 0.2), 12 * MIB),
  ];
  return {
    total,
    running,
    sleeping: total - running - blocked,
    blocked,
    topCpu,
    topMem: [...topCpu].sort((a, b) => b.memBytes - a.memBytes),
  };
}

/** hwmon's coretemp and NVMe sensors report whole degrees. */
function tempsSection(seed: number, ts: number, cpu: NonNullable<Sample['cpu']>): NonNullable<Sample['temps']> {
  const packageC = 36 + 0.3 * busy(seed, ts) + 0.8 * gaussian(seed, s('temp.pkg'), ts);
  return [
    { label: 'coretemp Package id 0', c: Math.round(packageC) },
    ...cpu.perCore.map((pct, core) => ({
      label: `coretemp Core ${core}`,
      c: Math.round(packageC - 3 + pct / 25 + 0.6 * gaussian(seed, s(`temp.core${core}`), ts)),
    })),
    {
      label: 'nvme Composite',
      c: Math.round(35 + 4 * smooth(seed, s('temp.nvme'), ts, HOUR) + ioBurst(seed, ts) / (10 * MIB)),
    },
    /** The second drive holds Docker's data: it warms with the same bursts, a little less. */
    {
      label: 'nvme Composite nvme1',
      c: Math.round(33 + 4 * smooth(seed, s('temp.nvme1'), ts, HOUR) + ioBurst(seed, ts) / (14 * MIB)),
    },
  ];
}

function agentSection(seed: number, ts: number): NonNullable<Sample['agent']> {
  const spooling = uniform(seed, s('agent.spool'), Math.floor(ts / (10 * MINUTE))) < 0.01;
  return {
    cpuPct: round(0.15 + 0.1 * Math.abs(gaussian(seed, s('agent.cpu'), ts)) + (ts % MINUTE === 0 ? 0.5 : 0), 3),
    rssBytes: pages(48 * MIB + 2 * MIB * smooth(seed, s('agent.rss'), ts, HOUR)),
    queueDepth: 0,
    spoolDepth: spooling ? 2 : 0,
    sendLatencyMs: round(40 + 10 * Math.abs(gaussian(seed, s('agent.latency'), ts)), 1),
  };
}

/** The host's sample at `ts` (epoch ms): the same for the same (seed, ts), whatever else was generated. */
export function syntheticSample(seed: number, ts: number, options: SyntheticHostOptions = {}): Sample {
  const cpu = cpuSection(seed, ts);
  const sample: Sample = {
    ts,
    cpu,
    load: loadSection(seed, ts),
    memory: memorySection(seed, ts),
    disks: disks(seed, ts),
    diskIo: diskIoSection(seed, ts),
    net: netSection(seed, ts),
    temps: tempsSection(seed, ts, cpu),
    agent: agentSection(seed, ts),
  };
  const gpus = options.gpus ?? 1;
  if (gpus > 0 && ts % (2 * SECOND) === 0) sample.gpus = gpuSection(seed, ts, gpus);
  if (ts % (5 * SECOND) === 0) {
    sample.containers = containersSection(seed, ts);
    sample.processes = processesSection(seed, ts, cpu);
  }
  return sample;
}

/** The facts the agent would report for this host at `ts` (boot time changes at each 30-day reboot). */
export function syntheticHostFacts(seed: number, ts: number): HostFacts {
  return {
    os: 'Debian GNU/Linux 12 (bookworm)',
    kernel: '6.1.0-28-amd64',
    arch: 'x64',
    cpuModel: 'AMD EPYC 9124 16-Core Processor',
    cores: SYNTHETIC_CORES,
    memTotal: SYNTHETIC_MEM_TOTAL,
    bootTime: bootTime(seed, ts),
    hostname: `synthetic-${seed}`,
  };
}
