import { describe, expect, it } from 'vitest';
import { initials } from './initials.ts';

describe('initials', () => {
  it('takes the first and last word of a name', () => {
    expect(initials('Ada Lovelace')).toBe('AL');
    expect(initials('ada king lovelace')).toBe('AL');
    expect(initials('Charles')).toBe('C');
  });

  it('takes one letter of an e-mail address', () => {
    expect(initials('ops.team@example.com')).toBe('O');
  });

  it('never returns an empty avatar', () => {
    expect(initials('')).toBe('?');
    expect(initials('  ')).toBe('?');
  });
});
