import { describe, expect, it } from 'vitest';
import { formatSeconds, fromSeconds, numberOf, toSeconds } from './durations.ts';

describe('durations', () => {
  it('picks the largest unit that holds the seconds whole', () => {
    expect(fromSeconds(300)).toEqual({ amount: '5', unit: 'min' });
    expect(fromSeconds(90)).toEqual({ amount: '90', unit: 's' });
    expect(fromSeconds(7200)).toEqual({ amount: '2', unit: 'h' });
    expect(fromSeconds(172_800)).toEqual({ amount: '2', unit: 'd' });
    expect(fromSeconds(0, 's')).toEqual({ amount: '0', unit: 's' });
  });

  it('reads amounts: empty is undefined, garbage is NaN, a decimal comma is a point', () => {
    expect(toSeconds({ amount: '1,5', unit: 'min' })).toBe(90);
    expect(toSeconds({ amount: '', unit: 'h' })).toBeUndefined();
    expect(toSeconds({ amount: 'soon', unit: 'h' })).toBeNaN();
    expect(numberOf(' 42 ')).toBe(42);
  });

  it('formats compactly, two units at most', () => {
    expect(formatSeconds(45)).toBe('45 s');
    expect(formatSeconds(300)).toBe('5 min');
    expect(formatSeconds(5400)).toBe('1 h 30 min');
    expect(formatSeconds(90_061)).toBe('1 d 1 h');
  });
});
