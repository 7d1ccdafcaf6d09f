import { LIVE_CADENCE, type Sample } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { liveSamplesBeforeStore, noteCadence, showLiveEarly, watchedLive } from './live-first.ts';

const idle = { collectIntervalMs: 10_000, pushIntervalMs: 30_000, live: false };

describe('live before the commit', () => {
  it('a host is shown early only after the object answered the live cadence for it, until it answers idle', () => {
    const hostId = crypto.randomUUID();
    expect(watchedLive(hostId)).toBe(false);
    noteCadence(hostId, LIVE_CADENCE);
    expect(watchedLive(hostId)).toBe(true);
    noteCadence(hostId, idle);
    expect(watchedLive(hostId)).toBe(false);
  });

  it('shows one sample per timestamp, the first, as the insert would keep it', () => {
    const base = { cpu: { total: 1 } } as unknown as Omit<Sample, 'ts'>;
    const samples = [
      { ...base, ts: 2 },
      { ...base, ts: 1 },
      { ...base, ts: 2, cpu: { total: 99 } },
    ] as unknown as Sample[];
    const live = liveSamplesBeforeStore(samples);
    expect(live.map((s) => s.ts)).toEqual([2, 1]);
    expect((live[0] as unknown as { cpu: { total: number } }).cpu.total).toBe(1);
  });

  it('an unreachable object is a "not shown", never an error', async () => {
    await expect(showLiveEarly(() => Promise.reject(new Error('gone')))).resolves.toBe(false);
    await expect(
      showLiveEarly(() => {
        throw new Error('stub broken');
      }),
    ).resolves.toBe(false);
    await expect(showLiveEarly(() => Promise.resolve(true))).resolves.toBe(true);
  });
});
