import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Sample } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { cpuCollector, cpuFromCurrentLoad, cpuFromProcStat, parseCpuinfoMhz, parseProcStat } from './cpu.ts';
import currentLoad from './fixtures/si-current-load.json' with { type: 'json' };

const fixtures = path.join(import.meta.dirname, 'fixtures');
const read = (name: string) => readFileSync(path.join(fixtures, name), 'utf8');

describe('cpu collector', () => {
  it('maps two recorded /proc/stat readings (one core busy, one idle)', () => {
    const cpu = cpuFromProcStat(parseProcStat(read('proc-stat-2.txt')), parseProcStat(read('proc-stat-1.txt')), 2445);
    // 200 jiffies elapsed over both cores: 30 user, 71 system, 99 idle.
    expect(cpu).toEqual({ total: 50.5, user: 15, system: 35.5, iowait: 0, steal: 0, perCore: [100, 0], freqMhz: 2445 });
    expect(Sample.safeParse({ ts: Date.now(), cpu }).success).toBe(true);
  });

  it('counts iowait and steal apart from busy time', () => {
    const before = parseProcStat('cpu  100 0 100 1000 0 0 0 0 0 0\ncpu0 100 0 100 1000 0 0 0 0 0 0\n');
    const after = parseProcStat('cpu  110 10 120 1040 10 0 0 10 0 0\ncpu0 110 10 120 1040 10 0 0 10 0 0\n');
    expect(cpuFromProcStat(after, before)).toEqual({
      total: 50,
      user: 20,
      system: 20,
      iowait: 10,
      steal: 10,
      perCore: [50],
    });
  });

  it('reads the average frequency from /proc/cpuinfo', () => {
    expect(parseCpuinfoMhz(read('cpuinfo.txt'))).toBe(2445);
    expect(parseCpuinfoMhz('processor : 0\n')).toBeUndefined();
  });

  it('maps systeminformation currentLoad where /proc is missing', () => {
    const cpu = cpuFromCurrentLoad(currentLoad as never);
    expect(cpu.total).toBeCloseTo(currentLoad.currentLoad, 1);
    expect(cpu.user).toBeCloseTo(currentLoad.currentLoadUser + currentLoad.currentLoadNice, 1);
    expect(cpu.perCore).toHaveLength(currentLoad.cpus.length);
  });

  it('primes on the first reading and reports from the second', async () => {
    const collector = cpuCollector({ proc: '/proc', sys: '/sys' }, true);
    expect(await collector.collect(1000)).toBeUndefined();
    const second = await collector.collect(2000);
    expect(second?.cpu?.perCore.length).toBeGreaterThan(0);
  });
});
