import { describe, expect, it } from 'vitest';
import { disksCollector, disksFromFsSize } from './disks.ts';
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
