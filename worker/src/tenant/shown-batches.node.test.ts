import { describe, expect, it } from 'vitest';
import { ShownBatches } from './shown-batches.ts';

describe('ShownBatches', () => {
  it('remembers the newest batch ids of each host, and a bounded number of hosts', () => {
    const shown = new ShownBatches(2, 2);
    shown.add('h1', 'a');
    shown.add('h1', 'b');
    expect([shown.has('h1', 'a'), shown.has('h1', 'b'), shown.has('h2', 'a')]).toEqual([true, true, false]);
    shown.add('h1', 'c');
    expect(shown.has('h1', 'a')).toBe(false);
    shown.add('h2', 'x');
    shown.add('h3', 'y'); // a third host: the first one goes
    expect([shown.has('h1', 'c'), shown.has('h2', 'x'), shown.has('h3', 'y')]).toEqual([false, true, true]);
  });
});
