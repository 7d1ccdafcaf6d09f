import path from 'node:path';
import { describe, expect, it } from 'vitest';
import recorded from './fixtures/si-processes.json' with { type: 'json' };
import { detectPageSize, parsePidStat, processesFromSi, processesFromTables, readProcessTable } from './processes.ts';

const fixtures = path.join(import.meta.dirname, 'fixtures');
const paths = (dir: string) => ({ proc: path.join(fixtures, dir), sys: '/nonexistent' });

describe('processes collector', () => {
  it('maps two recorded /proc/<pid>/stat readings one second apart', async () => {
    const before = await readProcessTable(paths('proc-1'));
    const after = await readProcessTable(paths('proc-2'));
    const result = processesFromTables(after, before, 1000, 4096);
    expect(result).toMatchObject({ total: 9, running: 2, sleeping: 7, blocked: 0 });
    // `yes` spun one core for the whole second; the recorder itself used one tick.
    expect(result.topCpu).toEqual([
      { pid: 26860, name: 'yes', cpuPct: 100, memBytes: 383 * 4096 },
      { pid: 26862, name: 'MainThread', cpuPct: 1, memBytes: 13_666 * 4096 },
    ]);
    expect(result.topMem.map((p) => [p.name, p.memBytes])).toEqual([
      ['MainThread', 13_666 * 4096],
      ['process_api', 1983 * 4096],
      ['yes', 383 * 4096],
    ]);
  });

  it('parses command names with spaces and parentheses, and does not charge a recycled pid', () => {
    const line = '42 (my (odd) name) D 1 1 1 0 -1 0 0 0 0 0 70 30 0 0 20 0 1 0 555 0 12 0';
    expect(parsePidStat(line)).toEqual({
      pid: 42,
      name: 'my (odd) name',
      state: 'D',
      cpuTicks: 100,
      startTicks: 555,
      rssPages: 12,
    });
    const now = new Map([[42, { pid: 42, name: 'x', state: 'R', cpuTicks: 500, startTicks: 9, rssPages: 1 }]]);
    const old = new Map([[42, { pid: 42, name: 'x', state: 'R', cpuTicks: 100, startTicks: 8, rssPages: 1 }]]);
    expect(processesFromTables(now, old, 1000, 4096).topCpu).toEqual([]);
  });

  it('finds the page size of this machine', async () => {
    expect([4096, 16_384, 65_536]).toContain(await detectPageSize());
  });

  it('maps systeminformation processes where /proc is missing', () => {
    const result = processesFromSi(recorded as never);
    expect(result.total).toBe(recorded.all);
    expect(result.topCpu[0]?.pid).toBe([...recorded.list].sort((a, b) => b.cpu - a.cpu)[0]?.pid);
    expect(result.topMem.length).toBeLessThanOrEqual(5);
  });
});
