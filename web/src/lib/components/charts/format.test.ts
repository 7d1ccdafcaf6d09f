import { describe, expect, it } from 'vitest';
import { axisTimeFormat, bucketTimeFormat, chartUnitOf, formatValue } from './format.ts';

describe('chart formatters', () => {
  it('formats each unit with the dashboard formatters', () => {
    expect(formatValue('percent', 50)).toBe('50 %');
    expect(formatValue('percent', 4.25)).toBe('4.3 %');
    expect(formatValue('bytes', 1024)).toBe('1 KiB');
    expect(formatValue('bytes', 10 * 1024 ** 2 + 300 * 1024)).toBe('10.3 MiB');
    expect(formatValue('bytesPerSec', 1024)).toBe('1 KiB/s');
    expect(formatValue('celsius', 61.4)).toBe('61 °C');
    expect(formatValue('number', 1.25)).toBe('1.25');
    expect(formatValue('number', 12_500)).toBe('12.5k');
    expect(formatValue('bytes', Number.NaN)).toBe('–');
  });
});

describe('history formatters', () => {
  it('gives every catalog unit its formatter', () => {
    expect(formatValue(chartUnitOf('per_s'), 34_000)).toBe('34k/s');
    expect(formatValue(chartUnitOf('watts'), 180.4)).toBe('180 W');
    expect(formatValue(chartUnitOf('ms'), 27.2)).toBe('27 ms');
    expect(formatValue(chartUnitOf('count'), 12)).toBe('12');
    expect(formatValue(chartUnitOf('pct'), 50)).toBe('50 %');
    expect(formatValue('ms', Number.POSITIVE_INFINITY)).toBe('–');
  });

  it('labels the time axis by the span it covers', () => {
    const at = new Date(2025, 2, 9, 7, 5, 30);
    const hours = axisTimeFormat(3_600_000)(at);
    const days = axisTimeFormat(30 * 86_400_000)(at);
    expect(hours).toContain('07');
    expect(hours).toContain('05');
    expect(days).not.toContain('07:05');
    expect(days).toContain('9');
    expect(days).not.toContain('2025');
    const year = axisTimeFormat(365 * 86_400_000)(at);
    expect(year).toContain('2025');
    expect(year).not.toContain('9');
    // A day-sized bucket names its day only; a minute-sized one its time.
    expect(bucketTimeFormat(86_400_000)(at)).not.toContain('07');
    expect(bucketTimeFormat(60_000)(at)).toContain('05');
  });
});
