import { describe, expect, it } from 'vitest';
import {
  describeRange,
  fromLocalInput,
  isoSeconds,
  parseRange,
  resolveRange,
  sameRange,
  toLocalInput,
  withRange,
  zoomRange,
} from './range.ts';

const params = (search: string) => new URLSearchParams(search);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('time range in the URL', () => {
  it('reads presets, live and custom ranges, and falls back on anything else', () => {
    expect(parseRange(params(''))).toEqual({ kind: 'live' });
    expect(parseRange(params('range=30d'))).toEqual({ kind: 'preset', preset: '30d' });
    expect(parseRange(params('range=1y'))).toEqual({ kind: 'preset', preset: '1y' });
    expect(parseRange(params('range=live'))).toEqual({ kind: 'live' });
    expect(parseRange(params('range=custom&from=2025-03-01T00:00:00Z&to=2025-03-02T12:00:00Z'))).toEqual({
      kind: 'custom',
      from: Date.UTC(2025, 2, 1),
      to: Date.UTC(2025, 2, 2, 12),
    });
    // Unknown presets, inherited keys, reversed or unparsable ends.
    for (const bad of [
      'range=2w',
      'range=toString',
      'range=custom&from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z',
      'range=custom&from=yesterday&to=2025-03-01T00:00:00Z',
      'range=custom',
    ]) {
      expect(parseRange(params(bad)), bad).toEqual({ kind: 'live' });
    }
    expect(parseRange(params('range=nope'), { kind: 'preset', preset: '24h' })).toEqual({
      kind: 'preset',
      preset: '24h',
    });
  });

  it('writes a range back, keeping the other parameters and dropping stale ends', () => {
    const base = 'range=custom&from=2025-03-01T00:00:00Z&to=2025-03-02T00:00:00Z&custom=queue_depth&custom=latency';
    const preset = withRange(base, { kind: 'preset', preset: '7d' });
    expect(preset.get('range')).toBe('7d');
    expect(preset.has('from')).toBe(false);
    expect(preset.getAll('custom')).toEqual(['queue_depth', 'latency']);

    const custom = withRange(params('range=30d'), {
      kind: 'custom',
      from: Date.UTC(2025, 0, 1, 10, 0, 0, 400),
      to: Date.UTC(2025, 0, 2),
    });
    expect(custom.toString()).toBe('range=custom&from=2025-01-01T10%3A00%3A00Z&to=2025-01-02T00%3A00%3A00Z');
    // What is written reads back as the same range.
    expect(parseRange(custom)).toEqual({ kind: 'custom', from: Date.UTC(2025, 0, 1, 10), to: Date.UTC(2025, 0, 2) });
    expect(parseRange(withRange('', { kind: 'live' }))).toEqual({ kind: 'live' });
  });

  it('resolves presets against now and custom ranges as they are', () => {
    const now = Date.UTC(2025, 5, 1, 12);
    expect(resolveRange({ kind: 'live' }, now)).toBeNull();
    expect(resolveRange({ kind: 'preset', preset: '1h' }, now)).toEqual({ from: now - HOUR, to: now });
    expect(resolveRange({ kind: 'preset', preset: '30d' }, now)).toEqual({ from: now - 30 * DAY, to: now });
    expect(resolveRange({ kind: 'preset', preset: '1y' }, now)).toEqual({ from: now - 365 * DAY, to: now });
    expect(resolveRange({ kind: 'custom', from: 5, to: 9 }, now)).toEqual({ from: 5, to: 9 });
  });

  it('compares ranges by what they show', () => {
    expect(sameRange({ kind: 'preset', preset: '6h' }, { kind: 'preset', preset: '6h' })).toBe(true);
    expect(sameRange({ kind: 'preset', preset: '6h' }, { kind: 'preset', preset: '24h' })).toBe(false);
    expect(sameRange({ kind: 'custom', from: 1, to: 2 }, { kind: 'custom', from: 1, to: 3 })).toBe(false);
    expect(sameRange({ kind: 'live' }, { kind: 'preset', preset: '1h' })).toBe(false);
  });

  it('zooms to a brushed span in whole seconds, either direction, at least a minute wide', () => {
    expect(zoomRange(Date.UTC(2025, 0, 1, 10, 0, 0, 300), Date.UTC(2025, 0, 1, 11, 0, 0, 700))).toEqual({
      kind: 'custom',
      from: Date.UTC(2025, 0, 1, 10),
      to: Date.UTC(2025, 0, 1, 11, 0, 1),
    });
    expect(zoomRange(Date.UTC(2025, 0, 1, 11), Date.UTC(2025, 0, 1, 10))).toEqual({
      kind: 'custom',
      from: Date.UTC(2025, 0, 1, 10),
      to: Date.UTC(2025, 0, 1, 11),
    });
    const narrow = zoomRange(Date.UTC(2025, 0, 1, 10), Date.UTC(2025, 0, 1, 10, 0, 4));
    expect(narrow.kind === 'custom' && narrow.to - narrow.from).toBe(60_000);
    expect(narrow.kind === 'custom' && narrow.from).toBe(Date.UTC(2025, 0, 1, 9, 59, 32));
  });

  it('round-trips datetime-local input values in the viewer’s zone and refuses partial ones', () => {
    const at = new Date(2025, 2, 9, 7, 5).getTime();
    expect(toLocalInput(at)).toBe('2025-03-09T07:05');
    expect(fromLocalInput(toLocalInput(at))).toBe(at);
    expect(fromLocalInput('')).toBeNull();
    expect(fromLocalInput('2025-03-09')).toBeNull();
    expect(fromLocalInput('2025-13-45T99:99')).toBeNull();
  });

  it('names a range for headings', () => {
    expect(describeRange({ kind: 'preset', preset: '30d' })).toBe('last 30 d');
    expect(describeRange({ kind: 'custom', from: 1000, to: 2000 }, (ms) => `t${ms}`)).toBe('t1000 – t2000');
    expect(isoSeconds(Date.UTC(2025, 0, 1, 0, 0, 0, 600))).toBe('2025-01-01T00:00:01Z');
  });
});
