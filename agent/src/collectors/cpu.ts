import type { Systeminformation } from 'systeminformation';
import { defaultProcPaths, isLinux, type ProcPaths, readProc } from './proc.ts';
import { systeminformation } from './si.ts';
import { type Collector, clampPct, type Section } from './types.ts';

/** Jiffies of one `cpu`/`cpuN` line of /proc/stat. */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export interface ProcStat {
  total: CpuTimes;
  cores: CpuTimes[];
}

export function parseProcStat(text: string): ProcStat {
  let total: CpuTimes | undefined;
  const cores: CpuTimes[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const [name, ...rest] = line.trim().split(/\s+/);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = rest.map(Number);
    const times = { user, nice, system, idle, iowait, irq, softirq, steal };
    if (name === 'cpu') total = times;
    else cores.push(times);
  }
  if (!total) throw new Error('/proc/stat has no cpu line');
  return { total, cores };
}

// Guest time is already counted in user time by the kernel, so it is not added again.
function sum(t: CpuTimes): number {
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

function share(part: number, whole: number): number {
  return whole > 0 ? clampPct((part / whole) * 100) : 0;
}

function busyPct(current: CpuTimes, previous: CpuTimes): number {
  const elapsed = sum(current) - sum(previous);
  const idle = current.idle + current.iowait - (previous.idle + previous.iowait);
  return share(elapsed - idle, elapsed);
}

/** CPU section from two readings of /proc/stat (user includes nice; system includes irq and softirq). */
export function cpuFromProcStat(current: ProcStat, previous: ProcStat, freqMhz?: number): NonNullable<Section['cpu']> {
  const c = current.total;
  const p = previous.total;
  const elapsed = sum(c) - sum(p);
  return {
    total: busyPct(c, p),
    user: share(c.user + c.nice - p.user - p.nice, elapsed),
    system: share(c.system + c.irq + c.softirq - p.system - p.irq - p.softirq, elapsed),
    iowait: share(c.iowait - p.iowait, elapsed),
    steal: share(c.steal - p.steal, elapsed),
    perCore: current.cores.map((core, i) => {
      const before = previous.cores[i];
      return before ? busyPct(core, before) : 0;
    }),
    ...(freqMhz ? { freqMhz } : {}),
  };
}

/** Average "cpu MHz" of /proc/cpuinfo; undefined where the (virtual) CPU does not report it. */
export function parseCpuinfoMhz(text: string): number | undefined {
  const values = [...text.matchAll(/^cpu MHz\s*:\s*([\d.]+)/gm)].map((m) => Number(m[1]));
  if (values.length === 0) return undefined;
  return Math.round(values.reduce((a, b) => a + b, 0) / values.length);
}

/** Mapping used where /proc is not available (macOS, Windows): systeminformation's currentLoad. */
export function cpuFromCurrentLoad(load: Systeminformation.CurrentLoadData): NonNullable<Section['cpu']> {
  return {
    total: clampPct(load.currentLoad),
    user: clampPct(load.currentLoadUser + load.currentLoadNice),
    system: clampPct(load.currentLoadSystem + load.currentLoadIrq),
    iowait: 0,
    steal: clampPct(load.currentLoadSteal),
    perCore: load.cpus.map((core) => clampPct(core.load)),
  };
}

const FREQ_REFRESH_MS = 10_000;

/**
 * On Linux one read of /proc/stat per cycle. systeminformation's currentLoad spawns `cat /proc/stat` on every
 * call and leaves iowait out, so it is only the fallback elsewhere.
 */
export function cpuCollector(paths: ProcPaths = defaultProcPaths, linux = isLinux): Collector {
  let previous: ProcStat | undefined;
  let freq: { at: number; mhz: number | undefined } | undefined;
  return {
    name: 'cpu',
    async collect(now) {
      if (!linux) {
        const load = await (await systeminformation()).currentLoad();
        return { cpu: cpuFromCurrentLoad(load) };
      }
      if (!freq || now - freq.at >= FREQ_REFRESH_MS) {
        const cpuinfo = await readProc(paths, 'cpuinfo').catch(() => '');
        freq = { at: now, mhz: parseCpuinfoMhz(cpuinfo) };
      }
      const current = parseProcStat(await readProc(paths, 'stat'));
      const before = previous;
      previous = current;
      if (!before) return undefined;
      return { cpu: cpuFromProcStat(current, before, freq.mhz) };
    },
  };
}
