import si from 'systeminformation';
import { type Collector, clampPct, type Section, throttle } from './types.ts';

/** Pseudo, in-memory and layered filesystems: not disks a user can fill. */
const VIRTUAL_FS = new Set([
  'tmpfs',
  'devtmpfs',
  'devfs',
  'overlay',
  'overlayfs',
  'squashfs',
  'proc',
  'sysfs',
  'cgroup',
  'cgroup2',
  'autofs',
  'ramfs',
  'nsfs',
  'tracefs',
  'fuse.lxcfs',
  'efivarfs',
  'iso9660',
]);

/**
 * Every real mounted filesystem once: pseudo filesystems and snap/loop images are skipped, and a device mounted
 * twice (bind mounts, containers) is reported at its shortest mount point.
 */
export function disksFromFsSize(list: si.Systeminformation.FsSizeData[]): NonNullable<Section['disks']> {
  const byDevice = new Map<string, si.Systeminformation.FsSizeData>();
  for (const entry of list) {
    if (!entry.size || VIRTUAL_FS.has(entry.type.toLowerCase())) continue;
    if (entry.fs.startsWith('/dev/loop') || entry.mount.startsWith('/snap/')) continue;
    const seen = byDevice.get(entry.fs);
    if (!seen || entry.mount.length < seen.mount.length) byDevice.set(entry.fs, entry);
  }
  return [...byDevice.values()].slice(0, 64).map((entry) => ({
    mount: entry.mount,
    fs: entry.fs,
    type: entry.type,
    size: entry.size,
    used: entry.used,
    // As df computes it, used / (used + available): blocks reserved for root never count as free, so 100 % means
    // "applications can no longer write", which is what a disk-full alert is about.
    usedPct: clampPct(
      entry.used + entry.available > 0 ? (entry.used / (entry.used + entry.available)) * 100 : entry.use,
    ),
  }));
}

/**
 * systeminformation's fsSize spawns `df`, so usage (which changes slowly) is refreshed once a minute and left
 * out of the samples in between.
 */
export function disksCollector(
  read: () => Promise<si.Systeminformation.FsSizeData[]> = () => si.fsSize(),
  intervalMs = 60_000,
): Collector {
  return throttle(
    {
      name: 'disks',
      async collect() {
        const disks = disksFromFsSize(await read());
        return disks.length > 0 ? { disks } : undefined;
      },
    },
    intervalMs,
  );
}
