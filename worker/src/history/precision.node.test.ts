import { METRICS, metricUnits, seriesKey } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import {
  AVERAGE_SIGNIFICANT_DIGITS,
  averageQuantum,
  chunkQuantum,
  QUANTUM_BY_UNIT,
  quantumOf,
  RATE_RELATIVE_PRECISION,
  valueStep,
} from './precision.ts';
import { seriesFamily, seriesPath } from './series-key.ts';

describe('quantumOf', () => {
  it('gives every catalog metric the quantum of its unit, with or without labels', () => {
    for (const { path, unit } of METRICS) {
      expect(quantumOf(path), path).toBe(QUANTUM_BY_UNIT[unit]);
      expect(quantumOf(seriesKey(path, { mount: '/srv/{weird}' })), path).toBe(QUANTUM_BY_UNIT[unit]);
    }
    expect(Object.keys(QUANTUM_BY_UNIT).sort()).toEqual([...metricUnits].sort());
  });

  it('states the precision of the main kinds', () => {
    expect(quantumOf('cpu.total')).toBe(0.01);
    expect(quantumOf('temp{sensor="coretemp Core 0"}')).toBe(0.1);
    expect(quantumOf('memory.used')).toBe(1);
    expect(quantumOf('net.rx{iface="eth0"}')).toBe(1);
    expect(quantumOf('load.1')).toBe(0.01);
  });

  it('stores custom metrics and unknown paths exactly', () => {
    expect(quantumOf('custom.queue_depth{queue="mail"}')).toBe(0);
    expect(quantumOf('custom.http_request_ms.p99')).toBe(0);
    expect(quantumOf('no.such.metric')).toBe(0);
  });
});

describe('series key parts', () => {
  it('splits the path and the family off a series key', () => {
    expect(seriesPath('disk.used{mount="a.b{c}"}')).toBe('disk.used');
    expect(seriesPath('cpu.total')).toBe('cpu.total');
    expect(seriesFamily('disk_io.read')).toBe('disk_io');
    expect(seriesFamily('temp{sensor="nvme.0"}')).toBe('temp');
    expect(seriesFamily('custom.http.ms.p99{route="/"}')).toBe('custom');
  });
});

describe('averageQuantum', () => {
  it('keeps a quantised series quantum', () => {
    expect(averageQuantum(0.01, [12.345678])).toBe(0.01);
  });

  it(`gives exact series ${AVERAGE_SIGNIFICANT_DIGITS} significant digits of the largest average`, () => {
    const quantum = averageQuantum(0, [1.5, -12_345.678_9, Number.NaN]);
    expect(quantum).toBeCloseTo(10 ** (5 - AVERAGE_SIGNIFICANT_DIGITS), 15);
    expect(averageQuantum(0, [0.000_123_4])).toBeCloseTo(10 ** (-3 - AVERAGE_SIGNIFICANT_DIGITS), 20);
    expect(averageQuantum(0, [0, Number.NaN])).toBe(0);
  });

  it('keeps the average of whole pages to the page, and of anything else to the series quantum', () => {
    const pages = Float64Array.of(4096 * 3, Number.NaN, 4096 * 1000);
    expect(valueStep(1, pages, Float64Array.of(8192))).toBe(4096);
    expect(averageQuantum(1, [4096 * 2.5], valueStep(1, pages))).toBe(4096);
    expect(valueStep(1, pages, Float64Array.of(4097))).toBe(1);
    expect(valueStep(0.01, pages)).toBe(0.01);
    expect(valueStep(1, Float64Array.of(Number.NaN))).toBe(1);
    expect(averageQuantum(0.01, [1.234], 0.001)).toBe(0.01);
  });
});

describe('chunkQuantum', () => {
  it('keeps byte rates within half the relative precision of the smallest non-zero rate, never below 1 B/s', () => {
    const values = Float64Array.of(0, 36_000.25, 410_000, 80e6, Number.NaN);
    const quantum = chunkQuantum('net.rx{iface="eth0"}', values);
    expect(Math.log2(quantum) % 1).toBe(0);
    expect(quantum).toBeLessThanOrEqual(36_000.25 * RATE_RELATIVE_PRECISION);
    expect(quantum).toBeGreaterThan((36_000.25 * RATE_RELATIVE_PRECISION) / 2);
    expect(chunkQuantum('disk_io.write', Float64Array.of(0, 12, 500))).toBe(1);
    expect(chunkQuantum('disk_io.write', Float64Array.of(0, Number.NaN))).toBe(1);
  });

  it('leaves every other unit at its stated quantum', () => {
    const values = Float64Array.of(1e9, 2e9);
    expect(chunkQuantum('memory.used', values)).toBe(1);
    expect(chunkQuantum('disk_io.read_ops', values)).toBe(0.01);
    expect(chunkQuantum('custom.bytes_per_s', values)).toBe(0);
  });
});
