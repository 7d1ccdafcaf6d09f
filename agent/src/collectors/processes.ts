import type { Systeminformation } from 'systeminformation';
import { fs } from '../fs.ts';
import { defaultProcPaths, isLinux, type ProcPaths, readProc } from './proc.ts';
import { systeminformation } from './si.ts';
import { type Collector, round, type Section } from './types.ts';

export const TOP_PROCESSES = 5;
/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat, 100 on every mainstream Linux build. */
const CLOCK_TICKS = 100;

export interface ProcStatLine {
  pid: number;
  name: string;
  /** R running, S sleeping, D uninterruptible (blocked), I idle kernel thread, Z zombie, T stopped, … */
  state: string;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  /** Start time after boot, clock ticks: tells a recycled pid apart. */
  startTicks: number;
  rssPages: number;
}

/** Parses /proc/<pid>/stat. The command name sits in parentheses and may itself contain spaces or parentheses. */
export function parsePidStat(text: string): ProcStatLine | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  const pid = Number(text.slice(0, open).trim());
  return {
    pid,
    name: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    cpuTicks: Number(rest[11]) + Number(rest[12]),
    startTicks: Number(rest[19]),
    rssPages: Number(rest[21]),
  };
}

export type ProcessTable = Map<number, ProcStatLine>;

export function processesFromTables(
  current: ProcessTable,
  previous: ProcessTable | undefined,
  elapsedMs: number,
  pageSize: number,
): NonNullable<Section['processes']> {
  let running = 0;
  let sleeping = 0;
  let blocked = 0;
  const rows: { pid: number; name: string; cpuPct: number; memBytes: number }[] = [];
  for (const proc of current.values()) {
    if (proc.state === 'R') running++;
    else if (proc.state === 'D') blocked++;
    else if (proc.state === 'S' || proc.state === 'I') sleeping++;
    const before = previous?.get(proc.pid);
    const ticks = before && before.startTicks === proc.startTicks ? proc.cpuTicks - before.cpuTicks : 0;
    const cpuPct = elapsedMs > 0 ? round(Math.max(0, (ticks / CLOCK_TICKS / (elapsedMs / 1000)) * 100)) : 0;
    rows.push({ pid: proc.pid, name: proc.name, cpuPct, memBytes: proc.rssPages * pageSize });
  }
  const top = (key: 'cpuPct' | 'memBytes') =>
    [...rows]
      .filter((row) => row[key] > 0)
      .sort((a, b) => b[key] - a[key] || a.pid - b.pid)
      .slice(0, TOP_PROCESSES);
  return { total: current.size, running, sleeping, blocked, topCpu: top('cpuPct'), topMem: top('memBytes') };
}

export async function readProcessTable(paths: ProcPaths): Promise<ProcessTable> {
  const table: ProcessTable = new Map();
  // Synchronous, as readProc: /proc is listed from memory.
  for (const entry of fs.readdirSync(paths.proc)) {
    if (!/^\d+$/.test(entry)) continue;
    // A process may exit between readdir and read: that is not an error.
    const text = await readProc(paths, entry, 'stat').catch(() => undefined);
    const parsed = text ? parsePidStat(text) : undefined;
    if (parsed) table.set(parsed.pid, parsed);
  }
  return table;
}

/** The kernel's page size, found by comparing our own RSS in pages with Node's figure in bytes. */
export async function detectPageSize(paths: ProcPaths = defaultProcPaths): Promise<number> {
  const self = parsePidStat(await readProc(paths, 'self', 'stat'));
  const pages = self?.rssPages ?? 0;
  if (pages <= 0) return 4096;
  const ratio = process.memoryUsage.rss() / pages;
  return [4096, 16_384, 65_536].reduce((best, size) => (Math.abs(size - ratio) < Math.abs(best - ratio) ? size : best));
}

/** Fallback mapping where /proc is not available (systeminformation spawns `ps`). */
export function processesFromSi(data: Systeminformation.ProcessesData): NonNullable<Section['processes']> {
  const rows = data.list.map((p) => ({ pid: p.pid, name: p.name, cpuPct: round(p.cpu), memBytes: p.memRss * 1024 }));
  const top = (key: 'cpuPct' | 'memBytes') =>
    [...rows]
      .filter((row) => row[key] > 0)
      .sort((a, b) => b[key] - a[key] || a.pid - b.pid)
      .slice(0, TOP_PROCESSES);
  return {
    total: data.all,
    running: data.running,
    sleeping: data.sleeping,
    blocked: data.blocked,
    topCpu: top('cpuPct'),
    topMem: top('memBytes'),
  };
}

/**
 * On Linux one small read per process of /proc/<pid>/stat (no `ps`). CPU percentages need two readings,
 * so the first cycle only primes.
 */
export function processesCollector(paths: ProcPaths = defaultProcPaths, linux = isLinux, pageSize?: number): Collector {
  let previous: { at: number; table: ProcessTable } | undefined;
  let pageBytes = pageSize;
  return {
    name: 'processes',
    async collect(now) {
      if (!linux) return { processes: processesFromSi(await (await systeminformation()).processes()) };
      pageBytes ??= await detectPageSize(paths);
      const table = await readProcessTable(paths);
      const before = previous;
      previous = { at: now, table };
      if (!before) return undefined;
      return { processes: processesFromTables(table, before.table, now - before.at, pageBytes) };
    },
  };
}
