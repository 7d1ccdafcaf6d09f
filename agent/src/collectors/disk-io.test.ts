import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diskIoFromCounters, isPhysicalDisk, parseDiskstats } from './disk-io.ts';

const read = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8');
// /sys/block on the recording machine.
const devices = new Set(['loop0', 'loop1', 'loop2', 'loop3', 'loop4', 'loop5', 'loop6', 'loop7', 'vda', 'zram0']);

describe('disk I/O collector', () => {
  it('sums physical disks only, in bytes and operations per second', () => {
    const before = parseDiskstats(read('diskstats-1.txt'), devices);
    const after = parseDiskstats(read('diskstats-2.txt'), devices);
    // Recorded around a 20 MiB direct write and read of it back on vda.
    expect(diskIoFromCounters(after, before, 1000)).toEqual({
      readBytesPerSec: 41_144 * 512,
      writeBytesPerSec: 40_968 * 512,
      readOpsPerSec: 23,
      writeOpsPerSec: 21,
    });
    expect(diskIoFromCounters(after, before, 2000).readOpsPerSec).toBe(11.5);
  });

  it('ignores partitions, loop, zram and device-mapper devices', () => {
    expect(isPhysicalDisk('vda', devices)).toBe(true);
    expect(isPhysicalDisk('vda1', devices)).toBe(false);
    expect(isPhysicalDisk('loop0', devices)).toBe(false);
    expect(isPhysicalDisk('zram0', devices)).toBe(false);
    expect(isPhysicalDisk('dm-0', new Set(['dm-0']))).toBe(false);
  });
});
