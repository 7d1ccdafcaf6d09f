import { describe, expect, it } from 'vitest';
import { HostPager } from './pager.ts';

describe('HostPager', () => {
  it('walks pages forward by the cursors the API answered, and back by the ones it kept', () => {
    let pager = new HostPager();
    expect(pager.query(100)).toEqual({ limit: 100 });
    expect(pager.isStart).toBe(true);
    expect(pager.hasNext).toBe(false);
    expect(pager.next()).toBe(pager);

    pager = pager.answered('c1');
    expect(pager.hasNext).toBe(true);
    pager = pager.next();
    expect(pager.query(100)).toEqual({ limit: 100, cursor: 'c1' });
    expect(pager.offset(100)).toBe(100);
    pager = pager.answered('c2').next().answered(null);
    expect(pager.query(100)).toEqual({ limit: 100, cursor: 'c2' });
    expect(pager.hasNext).toBe(false);

    pager = pager.previous();
    expect(pager.query(100)).toEqual({ limit: 100, cursor: 'c1' });
    // Not known until asked again: the list may have changed meanwhile.
    expect(pager.hasNext).toBe(false);
    pager = pager.previous().previous();
    expect(pager.isStart).toBe(true);
    expect(pager.query(100)).toEqual({ limit: 100 });
  });

  it('a new filter starts from the first page', () => {
    const pager = new HostPager('web');
    expect(pager.query(50)).toEqual({ limit: 50, q: 'web' });
    expect(pager.answered('c').next().query(50)).toEqual({ limit: 50, q: 'web', cursor: 'c' });
  });
});
