import fs from 'node:fs';

/** CPU time (user + system, ms) of one process, from /proc (Linux); null when it cannot be read. */
function cpuMsOf(pid: number, ticksPerSecond: number): { comm: string; ppid: number; cpuMs: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may hold spaces: the fields after it are fixed.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    const ppid = Number(fields[1]);
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { comm, ppid, cpuMs: (ticks * 1000) / ticksPerSecond };
  } catch {
    return null;
  }
}

export interface ProcessCpu {
  pid: number;
  /** `comm` plus the pid's place in the tree, e.g. `workerd` (two workerd processes run under wrangler dev). */
  name: string;
  cpuMs: number;
}

/** Every process in the tree under `rootPid` (itself included) with its CPU time so far; empty off Linux. */
export function treeCpu(rootPid: number, ticksPerSecond = 100): ProcessCpu[] {
  let pids: number[];
  try {
    pids = fs
      .readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
  const all = new Map<number, { comm: string; ppid: number; cpuMs: number }>();
  for (const pid of pids) {
    const info = cpuMsOf(pid, ticksPerSecond);
    if (info) all.set(pid, info);
  }
  const inTree = new Set<number>([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, info] of all) {
      if (!inTree.has(pid) && inTree.has(info.ppid)) {
        inTree.add(pid);
        grew = true;
      }
    }
  }
  return [...inTree]
    .filter((pid) => all.has(pid))
    .sort((a, b) => a - b)
    .map((pid) => {
      const info = all.get(pid) as { comm: string; cpuMs: number };
      return { pid, name: info.comm, cpuMs: info.cpuMs };
    });
}

/** CPU spent by each process between two `treeCpu` snapshots (processes in both), largest first. */
export function cpuBetween(before: ProcessCpu[], after: ProcessCpu[]): ProcessCpu[] {
  const start = new Map(before.map((p) => [p.pid, p.cpuMs]));
  return after
    .filter((p) => start.has(p.pid))
    .map((p) => ({ ...p, cpuMs: Math.round(p.cpuMs - (start.get(p.pid) ?? 0)) }))
    .filter((p) => p.cpuMs > 0)
    .sort((a, b) => b.cpuMs - a.cpuMs);
}
