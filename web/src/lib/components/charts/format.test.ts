import { describe, expect, it } from 'vitest';
import { formatValue } from './format.ts';

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
