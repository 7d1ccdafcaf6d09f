import { statfs } from '../fs.ts';
import { defaultProcPaths, isLinux, type ProcPaths, readProc } from './proc.ts';
import { systeminformation } from './si.ts';
import { type Collector, clampPct, type Section, throttle } from './types.ts';

/** One mounted filesystem's usage, in bytes: systeminformation's `fsSize()` entry, or read from statfs. */
export interface FsUsage {
  fs: string;
  type: string;
  mount: string;
  size: number;
  used: number;
  available: number;
  use: number;
}

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

/** Network filesystems: `df -l` leaves them out, and a statfs on a dead server would hang. */
const REMOTE_FS = new Set([
  'nfs',
  'nfs4',
  'cifs',
  'smb3',
  'smbfs',
  'ncpfs',
  'afs',
  'ceph',
  'glusterfs',
  'lustre',
  'gfs2',
  '9p',
  'fuse.sshfs',
  'fuse.glusterfs',
  'fuse.s3fs',
  'fuse.rclone',
  'fuse.gcsfuse',
]);

export interface Mount {
  device: string;
  mount: string;
  type: string;
}

/** /proc/self/mounts; fields escape space, tab, newline and backslash as octal (`\040`). */
export function parseMounts(text: string): Mount[] {
  const decode = (field: string) =>
    field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const [device, mount, type] = line.split(' ');
    if (device && mount && type) mounts.push({ device: decode(device), mount: decode(mount), type });
  }
  return mounts;
}

/** The mounts worth a statfs: local, real filesystems (the pseudo and network ones are left out before asking). */
export function localMounts(mounts: readonly Mount[]): Mount[] {
  return mounts.filter(
    (m) =>
      !VIRTUAL_FS.has(m.type.toLowerCase()) &&
      !REMOTE_FS.has(m.type.toLowerCase()) &&
      !m.device.includes(':') &&
      !m.device.startsWith('//') &&
      !m.device.startsWith('/dev/loop') &&
      !m.mount.startsWith('/snap/'),
  );
}

/**
 * Usage of every local filesystem from statfs, as `df` computes it (used = blocks − free; available is what
 * a non-root user can still write). No process is spawned. A mount that cannot be stat'ed (gone, no
 * permission) is skipped.
 */
export async function readFsUsage(paths: ProcPaths = defaultProcPaths): Promise<FsUsage[]> {
  const mounts = localMounts(parseMounts(await readProc(paths, 'self', 'mounts')));
  const usage = await Promise.all(
    mounts.map(async (m): Promise<FsUsage | undefined> => {
      const stats = await statfs(m.mount).catch(() => undefined);
      if (!stats) return undefined;
      const size = stats.blocks * stats.bsize;
      const used = (stats.blocks - stats.bfree) * stats.bsize;
      const available = stats.bavail * stats.bsize;
      return {
        fs: m.device,
        type: m.type,
        mount: m.mount,
        size,
        used,
        available,
        use: used + available > 0 ? (used / (used + available)) * 100 : 0,
      };
    }),
  );
  return usage.filter((entry) => entry !== undefined);
}

/**
 * Every real mounted filesystem once: pseudo filesystems and snap/loop images are skipped, and a device mounted
 * twice (bind mounts, containers) is reported at its shortest mount point.
 */
export function disksFromFsSize(list: readonly FsUsage[]): NonNullable<Section['disks']> {
  const byDevice = new Map<string, FsUsage>();
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

/** statfs on Linux; elsewhere systeminformation's fsSize, which spawns `df`. */
export function defaultFsUsage(linux = isLinux): () => Promise<FsUsage[]> {
  if (linux) return () => readFsUsage();
  return async () => (await systeminformation()).fsSize();
}

/** Usage changes slowly: refreshed once a minute and left out of the samples in between. */
export function disksCollector(read: () => Promise<FsUsage[]> = defaultFsUsage(), intervalMs = 60_000): Collector {
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
