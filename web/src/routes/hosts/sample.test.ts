import type { Sample } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { mergeGlance, mergeSample } from './sample.ts';

const disks: NonNullable<Sample['disks']> = [
  { mount: '/', fs: '/dev/sda1', type: 'ext4', size: 100, used: 40, usedPct: 40 },
];
const cpu: NonNullable<Sample['cpu']> = { total: 12, user: 8, system: 4, iowait: 0, steal: 0, perCore: [10, 14] };

describe('mergeSample', () => {
  it('keeps sections the newer sample left out, and takes the newer ones', () => {
    const first: Sample = { ts: 1_700_000_000_000, disks, cpu: { ...cpu, total: 50 } };
    const second: Sample = { ts: 1_700_000_010_000, cpu };
    expect(mergeSample(first, second)).toEqual({ ts: second.ts, disks, cpu });
  });

  it('never lets an older sample overwrite a newer one', () => {
    const newer: Sample = { ts: 1_700_000_010_000, cpu };
    const older: Sample = { ts: 1_700_000_000_000, disks };
    expect(mergeSample(newer, older)).toBe(newer);
  });

  it('starts from whichever exists', () => {
    const only: Sample = { ts: 1_700_000_000_000, cpu };
    expect(mergeSample(null, only)).toBe(only);
    expect(mergeSample(only, null)).toBe(only);
    expect(mergeSample(undefined, undefined)).toBeNull();
  });
});

describe('mergeGlance', () => {
  it('keeps the disk figure between the once-a-minute readings', () => {
    const merged = mergeGlance({ ts: 1, cpuPct: 5, diskPct: 70 }, { ts: 2, cpuPct: 9 });
    expect(merged).toEqual({ ts: 2, cpuPct: 9, diskPct: 70 });
    expect(mergeGlance({ ts: 3, cpuPct: 1 }, { ts: 2, cpuPct: 9 })).toEqual({ ts: 3, cpuPct: 1 });
    expect(mergeGlance(null, null)).toBeNull();
  });
});
