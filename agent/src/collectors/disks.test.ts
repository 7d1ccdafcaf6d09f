import { readFileSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { disksCollector, disksFromFsSize, localMounts, parseMounts, readFsUsage } from './disks.ts';
import recorded from './fixtures/si-fs-size.json' with { type: 'json' };

const entry = (fs: string, type: string, mount: string, size = 1000, used = 250) => ({
  fs,
  type,
  size,
  used,
  available: size - used,
  use: (used / size) * 100,
  mount,
  rw: true,
});

describe('disks collector', () => {
  it('maps recorded systeminformation fsSize()', () => {
    const [root] = recorded;
    expect(disksFromFsSize(recorded)).toEqual([
      { mount: '/', fs: '/dev/vda', type: 'ext4', size: root?.size, used: root?.used, usedPct: 23.61 },
    ]);
  });

  it('skips pseudo filesystems and snaps, and reports a device once at its shortest mount', () => {
    const list = [
      entry('/dev/sda1', 'ext4', '/var/lib/docker/overlay2/x'),
      entry('/dev/sda1', 'ext4', '/'),
      entry('tmpfs', 'tmpfs', '/run'),
      entry('overlay', 'overlay', '/var/lib/docker/overlay2/y/merged'),
      entry('/dev/loop3', 'squashfs', '/snap/core/1'),
      entry('/dev/sdb1', 'xfs', '/data', 4000, 1000),
      entry('/dev/sdc', 'ext4', '/empty', 0, 0),
    ];
    expect(disksFromFsSize(list).map((d) => [d.fs, d.mount, d.usedPct])).toEqual([
      ['/dev/sda1', '/', 25],
      ['/dev/sdb1', '/data', 25],
    ]);
  });

  it('refreshes at most once per interval', async () => {
    let calls = 0;
    const collector = disksCollector(async () => {
      calls++;
      return recorded;
    }, 60_000);
    expect((await collector.collect(0))?.disks).toHaveLength(1);
    expect(await collector.collect(30_000)).toBeUndefined();
    expect((await collector.collect(60_000))?.disks).toHaveLength(1);
    expect(calls).toBe(2);
  });
});

describe('disk usage from statfs (Linux)', () => {
  const fixtures = { proc: path.join(import.meta.dirname, 'fixtures', 'proc-mounts'), sys: '/nonexistent' };

  it('asks only local, real filesystems, with escaped mount points read back', async () => {
    const mounts = parseMounts(readFileSync(path.join(fixtures.proc, 'self', 'mounts'), 'utf8'));
    expect(mounts).toHaveLength(10);
    expect(localMounts(mounts).map((m) => m.mount)).toEqual(['/', '/var/lib/docker/overlay2', '/media/usb stick']);
  });

  it('computes size, used and available as df does; mounts it cannot stat are skipped', async () => {
    const usage = await readFsUsage(fixtures);
    // This machine has a root filesystem but (presumably) no /media/usb stick.
    const root = usage.find((entry) => entry.mount === '/');
    const stats = statfsSync('/');
    expect(root).toMatchObject({ fs: '/dev/vda', type: 'ext4', size: stats.blocks * stats.bsize });
    expect(root?.available).toBeLessThanOrEqual((root?.size ?? 0) - (root?.used ?? 0));
    expect(usage.map((entry) => entry.mount)).not.toContain('/media/usb stick');
    expect(disksFromFsSize(usage).map((disk) => disk.mount)).toEqual(['/']);
  });
});
