import { describe, expect, it } from 'vitest';
import {
  formatAgo,
  formatBytes,
  formatCelsius,
  formatCount,
  formatDuration,
  formatMhz,
  formatMs,
  formatPct,
  formatPerSec,
  formatRate,
  formatWatts,
  share,
} from './format.ts';

describe('formatBytes', () => {
  it('uses binary units with at most three significant digits', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(10 * 1024 ** 2 + 300 * 1024)).toBe('10.3 MiB');
    expect(formatBytes(980 * 1024 ** 2)).toBe('980 MiB');
    expect(formatBytes(16 * 1024 ** 3)).toBe('16 GiB');
    expect(formatBytes(2.5 * 1024 ** 4)).toBe('2.5 TiB');
  });

  it('steps up instead of printing 1024 of a unit', () => {
    expect(formatBytes(1023.7 * 1024)).toBe('1 MiB');
    expect(formatBytes(1023)).toBe('1023 B');
  });

  it('copes with negative and non-finite values', () => {
    expect(formatBytes(-2048)).toBe('-2 KiB');
    expect(formatBytes(Number.NaN)).toBe('–');
  });
});

describe('rates and counts', () => {
  it('formats bytes per second', () => {
    expect(formatRate(0)).toBe('0 B/s');
    expect(formatRate(1.25 * 1024 ** 2)).toBe('1.25 MiB/s');
  });

  it('formats compact counts and counts per second', () => {
    expect(formatCount(7)).toBe('7');
    expect(formatCount(2.345)).toBe('2.35');
    expect(formatCount(950.4)).toBe('950');
    expect(formatCount(12_345)).toBe('12.3k');
    expect(formatCount(3_400_000)).toBe('3.4M');
    expect(formatPerSec(0)).toBe('0/s');
    expect(formatPerSec(15_000)).toBe('15k/s');
  });
});

describe('formatPct', () => {
  it('keeps one decimal below 10 and rounds above', () => {
    expect(formatPct(0)).toBe('0 %');
    expect(formatPct(4.25)).toBe('4.3 %');
    expect(formatPct(37.4)).toBe('37 %');
    expect(formatPct(100)).toBe('100 %');
    expect(formatPct(250)).toBe('250 %');
  });
});

describe('durations and times', () => {
  it('formats milliseconds', () => {
    expect(formatMs(3.44)).toBe('3.4 ms');
    expect(formatMs(27.2)).toBe('27 ms');
    expect(formatMs(1234)).toBe('1.23 s');
  });

  it('gives the two largest units of a duration', () => {
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(12 * 60_000)).toBe('12 min');
    expect(formatDuration(3 * 3_600_000 + 4 * 60_000)).toBe('3 h 4 min');
    expect(formatDuration(2 * 3_600_000)).toBe('2 h');
    expect(formatDuration(12 * 86_400_000 + 3 * 3_600_000 + 59_000)).toBe('12 d 3 h');
    expect(formatDuration(-5)).toBe('0 s');
  });

  it('says how long ago, from ISO strings, epoch ms or dates', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    expect(formatAgo(null, now)).toBe('never');
    expect(formatAgo('2026-11-23T11:59:58Z', now)).toBe('just now');
    expect(formatAgo(now - 12_000, now)).toBe('12 s ago');
    expect(formatAgo(new Date(now - 5 * 60_000), now)).toBe('5 min ago');
    expect(formatAgo(now - 3 * 3_600_000, now)).toBe('3 h ago');
    expect(formatAgo(now - 2 * 86_400_000, now)).toBe('2 d ago');
    expect(formatAgo('not a date', now)).toBe('never');
  });
});

describe('units', () => {
  it('formats frequency, temperature and power', () => {
    expect(formatMhz(2400)).toBe('2.40 GHz');
    expect(formatMhz(800.4)).toBe('800 MHz');
    expect(formatCelsius(62.46)).toBe('62.5 °C');
    expect(formatWatts(35.54)).toBe('35.5 W');
    expect(formatWatts(180.4)).toBe('180 W');
  });

  it('computes a clamped share', () => {
    expect(share(1, 4)).toBe(25);
    expect(share(5, 0)).toBe(0);
    expect(share(5, 4)).toBe(100);
  });
});
