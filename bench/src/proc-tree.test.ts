import { describe, expect, it } from 'vitest';
import { backendDatabase, descendants, footprint, type ProcStat, parseStat, parseVmRss } from './proc-tree.ts';

describe('parseStat', () => {
  it('reads ppid and CPU ticks, counting fields from the last parenthesis of the name', () => {
    const line = '4242 (web (worker) 1) S 17 4242 4242 0 -1 4194560 900 0 0 0 120 35 7 3 20 0 9 0 1000 0 0';
    expect(parseStat(line)).toEqual({ pid: 4242, ppid: 17, comm: 'web (worker) 1', ticks: 155, childTicks: 10 });
  });
});

describe('backendDatabase', () => {
  it("names a TCP backend's database, with or without a cluster name, and nothing for the server's own processes", () => {
    const padded = (title: string) => `${title}${'\0'.repeat(20)}`;
    expect(backendDatabase(padded('postgres: 15/main: postgres pw_bench_1 127.0.0.1(43560) idle'))).toBe('pw_bench_1');
    expect(backendDatabase('postgres: app test 10.0.0.2(5000) SELECT')).toBe('test');
    expect(backendDatabase(padded('postgres: 15/main: checkpointer'))).toBeUndefined();
    expect(backendDatabase('/usr/lib/postgresql/15/bin/postgres\0-D\0/var/lib/postgresql/15/main')).toBeUndefined();
  });
});

describe('parseVmRss', () => {
  it('gives bytes, and 0 for a process without resident memory', () => {
    expect(parseVmRss('Name:\tnode\nVmRSS:\t   51234 kB\nThreads: 7\n')).toBe(51234 * 1024);
    expect(parseVmRss('Name:\tkthreadd\nThreads: 1\n')).toBe(0);
  });
});

describe('descendants', () => {
  const p = (pid: number, ppid: number): ProcStat => ({ pid, ppid, comm: String(pid), ticks: 0, childTicks: 0 });
  it('walks the tree below a process and nothing beside it', () => {
    const all = [p(1, 0), p(10, 1), p(11, 10), p(12, 11), p(13, 10), p(20, 1)];
    expect(
      descendants(10, all)
        .map((x) => x.pid)
        .sort(),
    ).toEqual([10, 11, 12, 13]);
    expect(descendants(99, all)).toEqual([]);
  });
});

describe('footprint', () => {
  it('divides CPU by cycles and by the window, and takes the median and the maximum RSS', () => {
    const f = footprint({
      cpuMs: 120,
      elapsedMs: 120_000,
      cycles: 12,
      rssBytes: [3, 1, 2].map((m) => m * 2 ** 20),
      processes: [1, 3],
    });
    expect(f).toMatchObject({ cpuMsPerCycle: 10, cpuPct: 0.1, rssMedianMiB: 2, rssMaxMiB: 3, processesMax: 3 });
  });
});
