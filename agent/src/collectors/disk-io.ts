import path from 'node:path';
import { readdir } from '../fs.ts';
import { defaultProcPaths, isLinux, type ProcPaths, readProc } from './proc.ts';
import { type Collector, perSecond, type Section } from './types.ts';

export interface DiskCounters {
  readOps: number;
  writeOps: number;
  readBytes: number;
  writeBytes: number;
}

/** /proc/diskstats counts sectors of 512 bytes whatever the device's real sector size. */
const SECTOR_BYTES = 512;

/**
 * Devices that are views of other devices (partitions, device-mapper, md) would count the same I/O twice;
 * loop, ram and optical devices are not disks.
 */
export function isPhysicalDisk(name: string, wholeDevices: ReadonlySet<string>): boolean {
  if (!wholeDevices.has(name)) return false;
  return !/^(loop|ram|zram|dm-|md|sr|fd|nbd)/.test(name);
}

/** Sum of the I/O counters of every physical disk in /proc/diskstats. */
export function parseDiskstats(text: string, wholeDevices: ReadonlySet<string>): DiskCounters {
  const total: DiskCounters = { readOps: 0, writeOps: 0, readBytes: 0, writeBytes: 0 };
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const name = fields[2];
    if (!name || fields.length < 14 || !isPhysicalDisk(name, wholeDevices)) continue;
    total.readOps += Number(fields[3]);
    total.readBytes += Number(fields[5]) * SECTOR_BYTES;
    total.writeOps += Number(fields[7]);
    total.writeBytes += Number(fields[9]) * SECTOR_BYTES;
  }
  return total;
}

export function diskIoFromCounters(
  current: DiskCounters,
  previous: DiskCounters,
  elapsedMs: number,
): NonNullable<Section['diskIo']> {
  return {
    readBytesPerSec: perSecond(current.readBytes, previous.readBytes, elapsedMs),
    writeBytesPerSec: perSecond(current.writeBytes, previous.writeBytes, elapsedMs),
    readOpsPerSec: perSecond(current.readOps, previous.readOps, elapsedMs),
    writeOpsPerSec: perSecond(current.writeOps, previous.writeOps, elapsedMs),
  };
}

/** Linux only: one read of /proc/diskstats per cycle (systeminformation's disksIO spawns lsblk and a shell). */
export function diskIoCollector(paths: ProcPaths = defaultProcPaths, linux = isLinux): Collector {
  let devices: Set<string> | undefined;
  let previous: { at: number; counters: DiskCounters } | undefined;
  return {
    name: 'diskIo',
    async collect(now) {
      if (!linux) return undefined;
      devices ??= new Set(await readdir(path.join(paths.sys, 'block')));
      const counters = parseDiskstats(await readProc(paths, 'diskstats'), devices);
      const before = previous;
      previous = { at: now, counters };
      if (!before) return undefined;
      return { diskIo: diskIoFromCounters(counters, before.counters, now - before.at) };
    },
  };
}
