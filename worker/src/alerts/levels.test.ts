import type { AlertLevel } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { type LevelSpec, nextLevel } from './levels.ts';

const cpu: LevelSpec = {
  comparison: 'gt',
  warning: { threshold: 90, recovery: 80 },
  critical: { threshold: 97, recovery: 90 },
};

function walk(spec: LevelSpec, values: number[]): (AlertLevel | null)[] {
  let level: AlertLevel | null = null;
  return values.map((v) => {
    level = nextLevel(spec, level, v);
    return level;
  });
}

describe('nextLevel', () => {
  it('enters a level past its threshold and leaves it only past its recovery threshold', () => {
    expect(walk(cpu, [85, 91, 85, 81, 80, 85])).toEqual([null, 'warning', 'warning', 'warning', null, null]);
  });

  it('escalates to critical at the critical threshold and de-escalates below its recovery', () => {
    expect(walk(cpu, [91, 96, 98, 93, 91, 89, 85, 79])).toEqual([
      'warning',
      'warning',
      'critical',
      'critical', // above critical's recovery (90)
      'critical',
      'warning', // below 90, above warning's recovery (80)
      'warning',
      null,
    ]);
  });

  it('without recovery thresholds, follows the threshold both ways', () => {
    const plain: LevelSpec = { comparison: 'gte', warning: { threshold: 90 } };
    expect(walk(plain, [89, 90, 89.9, 90])).toEqual([null, 'warning', null, 'warning']);
  });

  it('mirrors for lt/lte: low values alert and recover above the recovery line', () => {
    const free: LevelSpec = {
      comparison: 'lt',
      warning: { threshold: 20, recovery: 25 },
      critical: { threshold: 5, recovery: 10 },
    };
    expect(walk(free, [30, 19, 22, 4, 8, 12, 26])).toEqual([
      null,
      'warning',
      'warning',
      'critical',
      'critical',
      'warning',
      null,
    ]);
  });

  it('a critical-only rule resolves past critical recovery', () => {
    const spec: LevelSpec = { comparison: 'gt', critical: { threshold: 95, recovery: 90 } };
    expect(walk(spec, [96, 91, 90])).toEqual(['critical', 'critical', null]);
  });
});
