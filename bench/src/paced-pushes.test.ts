import { describe, expect, it } from 'vitest';
import { pacedPushes, spacings } from './paced-pushes.ts';

/** A push that answers only when the test says so. */
function heldPushes() {
  const release: (() => void)[] = [];
  const started: number[] = [];
  const push = (index: number) => {
    started.push(index);
    return new Promise<void>((resolve) => release.push(resolve));
  };
  return { release, started, push };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('paced pushes', () => {
  it('starts pushes without waiting for answers, up to the in-flight bound', async () => {
    const held = heldPushes();
    const run = pacedPushes({ count: 4, intervalMs: 0, maxInFlight: 2, push: held.push });
    for (let i = 0; i < 10 && held.started.length < 2; i++) await tick();
    expect(held.started).toEqual([0, 1]); // the third waits for an answer
    held.release[0]?.();
    for (let i = 0; i < 10 && held.started.length < 3; i++) await tick();
    expect(held.started).toEqual([0, 1, 2]);
    for (let i = 1; i < 4; i++) {
      for (let j = 0; j < 10 && held.release.length <= i; j++) await tick();
      held.release[i]?.();
    }
    const result = await run;
    expect(result.starts).toHaveLength(4);
    expect(result.maxInFlight).toBe(2);
    expect(result.starts.every((s) => s.answeredAt !== null)).toBe(true);
    expect(spacings(result.starts)).toHaveLength(3);
  });

  it('waits for each answer in the old mode, and records failures', async () => {
    let outstanding = 0;
    let most = 0;
    const result = await pacedPushes({
      count: 3,
      intervalMs: 0,
      maxInFlight: 8,
      waitForAnswers: true,
      push: async (index) => {
        outstanding++;
        most = Math.max(most, outstanding);
        await tick();
        outstanding--;
        if (index === 1) throw new Error('ingest answered 500');
      },
    });
    expect(most).toBe(1);
    expect(result.maxInFlight).toBe(1);
    expect(result.starts.map((s) => s.error ?? null)).toEqual([null, 'ingest answered 500', null]);
    expect(result.starts[1]?.answeredAt).toBeNull();
  });
});
