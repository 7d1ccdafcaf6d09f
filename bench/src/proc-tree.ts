/**
 * CPU and memory of process trees, read from /proc (Linux): what the agent, node_exporter and Netdata
 * cost the machine, and where the ingest benchmark's CPU goes. Summed over a process and its descendants,
 * because Netdata runs its collectors as child processes and the stack runs workerd under wrangler.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime: this process's own CPU, in clock ticks. */
  ticks: number;
  /** cutime + cstime: its reaped children's, in clock ticks. */
  childTicks: number;
}

/** One `/proc/<pid>/stat` line. The command name (field 2) may hold spaces and parentheses: count from the last `)`. */
export function parseStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const fields = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
  const at = (field: number) => Number(fields[field - 3]);
  return {
    pid: Number(text.slice(0, open).trim()),
    ppid: at(4),
    comm: text.slice(open + 1, close),
    ticks: at(14) + at(15),
    childTicks: at(16) + at(17),
  };
}

/** VmRSS of a `/proc/<pid>/status` text, in bytes (0 for a kernel thread or a zombie, which have none). */
export function parseVmRss(text: string): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(text);
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * A PostgreSQL backend's database, from its command line (`postgres: [<cluster>: ]<user> <database>
 * <client>(<port>) <state>`); undefined for the server's other processes.
 */
export function backendDatabase(cmdline: string): string | undefined {
  return /^postgres: (?:\S+: )?\S+ (\S+) \S+\(\d+\)/.exec(cmdline.replaceAll('\0', ' '))?.[1];
}

const readText = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined; // the process exited between the listing and the read
  }
};

/**
 * A process's time on CPU in ms, exact (`/proc/<pid>/schedstat`, in ns), or undefined once it has exited. Its
 * stat ticks are whole 10 ms units, truncated: a backend that lives for one request shows 0 there.
 */
export function cpuMsOf(pid: number): number | undefined {
  const text = readText(`/proc/${pid}/schedstat`);
  return text === undefined ? undefined : Number(text.split(' ')[0]) / 1e6;
}

/** `root` and every process below it in `all`, by parent links. */
export function descendants(root: number, all: readonly ProcStat[]): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const self = all.find((p) => p.pid === root);
  if (!self) return [];
  const out: ProcStat[] = [];
  const queue = [self];
  while (queue.length > 0) {
    const next = queue.shift() as ProcStat;
    out.push(next);
    queue.push(...(children.get(next.pid) ?? []));
  }
  return out;
}

/** Every process on the machine, now. */
export function listProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const text = readText(`/proc/${name}/stat`);
    if (text) out.push(parseStat(text));
  }
  return out;
}

export const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

export interface TreeReading {
  /** utime + stime + cutime + cstime over the tree, in ms: a process that exits and is reaped moves into its parent's cutime, so deltas stay whole. */
  cpuMs: number;
  /** Sum of VmRSS over the tree (shared pages counted once per process, as `ps` would). */
  rssBytes: number;
  processes: number;
}

/** The tree under `root` (or the processes `match` selects, with their descendants) read once. */
export function readTree(select: number | ((p: ProcStat) => boolean)): TreeReading {
  const all = listProcesses();
  const roots = typeof select === 'number' ? all.filter((p) => p.pid === select) : all.filter(select);
  const seen = new Set<number>();
  const members: ProcStat[] = [];
  for (const root of roots) {
    for (const p of descendants(root.pid, all)) {
      if (seen.has(p.pid)) continue;
      seen.add(p.pid);
      members.push(p);
    }
  }
  let ticks = 0;
  let rss = 0;
  for (const p of members) {
    ticks += p.ticks + p.childTicks;
    rss += parseVmRss(readText(`/proc/${p.pid}/status`) ?? '');
  }
  return { cpuMs: (ticks * 1000) / TICKS_PER_SECOND, rssBytes: rss, processes: members.length };
}

/** CPU per cycle, CPU % of one core and median/max RSS over a measured window: the figures the agent bench reports. */
export interface Footprint {
  cycles: number;
  cpuMs: number;
  cpuMsPerCycle: number;
  cpuPct: number;
  rssMedianMiB: number;
  rssMaxMiB: number;
  processesMax: number;
}

export function footprint(window: {
  cpuMs: number;
  elapsedMs: number;
  cycles: number;
  rssBytes: readonly number[];
  processes: readonly number[];
}): Footprint {
  const sorted = [...window.rssBytes].sort((a, b) => a - b);
  const mib = (bytes: number) => bytes / 2 ** 20;
  return {
    cycles: window.cycles,
    cpuMs: window.cpuMs,
    cpuMsPerCycle: window.cycles > 0 ? window.cpuMs / window.cycles : Number.NaN,
    cpuPct: window.elapsedMs > 0 ? (window.cpuMs / window.elapsedMs) * 100 : Number.NaN,
    rssMedianMiB: sorted.length ? mib(sorted[Math.floor(sorted.length / 2)] as number) : Number.NaN,
    rssMaxMiB: sorted.length ? mib(sorted[sorted.length - 1] as number) : Number.NaN,
    processesMax: window.processes.length ? Math.max(...window.processes) : 0,
  };
}
