import type { LiveSample } from '@pulsewire/protocol';
import { describe, expect, it, vi } from 'vitest';
import { HistoryFiller } from './history-fill.svelte.ts';

const s = (ts: number): LiveSample => ({ ts });
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** A history whose answers the test releases one by one. */
function controlledHistory() {
  const calls: { hostId: string; from: number; to: number; signal: AbortSignal | undefined }[] = [];
  const answers: ((points: LiveSample[]) => void)[] = [];
  const fetchSeries = vi.fn(
    (hostId: string, from: number, to: number, options?: { signal?: AbortSignal }) =>
      new Promise<LiveSample[]>((resolve) => {
        calls.push({ hostId, from, to, signal: options?.signal });
        answers.push(resolve);
      }),
  );
  return { fetchSeries, calls, answer: (i: number, points: LiveSample[]) => answers[i]?.(points) };
}

describe('HistoryFiller', () => {
  it('keeps at most `concurrency` requests in flight and starts the next ones in order', async () => {
    const history = controlledHistory();
    const filler = new HistoryFiller({ fetchSeries: history.fetchSeries, concurrency: 2 });
    const added: string[] = [];
    for (const id of ['a', 'b', 'c', 'd']) void filler.fill(id, 0, 10, () => added.push(id));
    expect(history.calls.map((c) => c.hostId)).toEqual(['a', 'b']);
    expect(filler.pending).toBe(4);

    history.answer(1, [s(1)]);
    await settle();
    expect(added).toEqual(['b']);
    expect(history.calls.map((c) => c.hostId)).toEqual(['a', 'b', 'c']);

    history.answer(0, []);
    history.answer(2, []);
    await settle();
    expect(history.calls.map((c) => c.hostId)).toEqual(['a', 'b', 'c', 'd']);
    history.answer(3, []);
    await settle();
    expect(added).toEqual(['b', 'a', 'c', 'd']);
    expect(filler.pending).toBe(0);
  });

  it('is best effort: a failing fill adds nothing and the next one still runs', async () => {
    const fetchSeries = vi
      .fn<(id: string, from: number, to: number) => Promise<LiveSample[]>>()
      .mockRejectedValueOnce(new Error('down'))
      .mockResolvedValueOnce([s(5)]);
    const filler = new HistoryFiller({ fetchSeries, concurrency: 1 });
    const add = vi.fn();
    await filler.fill('a', 0, 10, add);
    await filler.fill('a', 0, 10, add);
    expect(add).toHaveBeenCalledTimes(1);
    expect(add).toHaveBeenCalledWith([s(5)]);
  });

  it('cancel drops the queued fills, aborts the running ones and ignores what they return', async () => {
    const history = controlledHistory();
    const filler = new HistoryFiller({ fetchSeries: history.fetchSeries, concurrency: 1 });
    const add = vi.fn();
    const first = filler.fill('a', 0, 10, add);
    const second = filler.fill('b', 0, 10, add);
    filler.cancel();
    expect(history.calls[0]?.signal?.aborted).toBe(true);
    await second; // dropped: settles without a request
    history.answer(0, [s(1)]);
    await first;
    expect(history.calls).toHaveLength(1);
    expect(add).not.toHaveBeenCalled();
    expect(filler.pending).toBe(0);

    // Later fills run as usual.
    const third = filler.fill('c', 0, 10, add);
    expect(history.calls[1]?.signal?.aborted).toBe(false);
    history.answer(1, [s(2)]);
    await third;
    expect(add).toHaveBeenCalledWith([s(2)]);
  });
});
