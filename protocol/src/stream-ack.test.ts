import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ACK_AFTER_BYTES,
  ACK_AFTER_FRAMES,
  ACK_DELAY_MS,
  ACK_DELAY_SPREAD,
  ACK_INTERVAL_MS,
  AckPacer,
  ackDelayOf,
} from './stream-ack.ts';

describe('AckPacer', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  function pacer() {
    const sent: number[] = [];
    // random 0: the whole delay, so the steps below are exact.
    return { sent, acks: new AckPacer({ send: (ack) => sent.push(ack.seq), now: () => Date.now(), random: () => 0 }) };
  }

  it('acks within the delay of the oldest frame not acknowledged, then the newest, once', () => {
    const { sent, acks } = pacer();
    acks.received(1);
    expect(sent).toEqual([]); // not at once: sockets fed the same first frame would all ack together
    vi.advanceTimersByTime(10);
    acks.received(2);
    acks.received(3);
    vi.advanceTimersByTime(ACK_DELAY_MS - 11);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([3]);
    vi.advanceTimersByTime(ACK_DELAY_MS * 4);
    expect(sent).toEqual([3]); // nothing new, nothing sent
  });

  it('acks on a frame when the oldest waiting one is overdue, even if no timer ever runs (throttled tab)', () => {
    const { sent, acks } = pacer();
    acks.received(1);
    vi.setSystemTime(Date.now() + ACK_DELAY_MS);
    acks.received(2);
    expect(sent).toEqual([2]);
  });

  it('a 1 s live cadence is acked every tenth frame', () => {
    const { sent, acks } = pacer();
    for (let seq = 1; seq <= 30; seq++) {
      acks.received(seq);
      vi.advanceTimersByTime(1_000);
    }
    expect(sent).toEqual([10, 20, 30]);
  });

  it('acks many frames or bytes as soon as the interval allows, never more often', () => {
    const { sent, acks } = pacer();
    for (let seq = 1; seq <= ACK_AFTER_FRAMES; seq++) acks.received(seq);
    expect(sent).toEqual([ACK_AFTER_FRAMES]); // many frames: at once
    for (let seq = ACK_AFTER_FRAMES + 1; seq <= 2 * ACK_AFTER_FRAMES; seq++) acks.received(seq);
    expect(sent).toEqual([ACK_AFTER_FRAMES]); // the interval holds the next back…
    vi.advanceTimersByTime(ACK_INTERVAL_MS);
    expect(sent).toEqual([ACK_AFTER_FRAMES, 2 * ACK_AFTER_FRAMES]); // …not the delay
    vi.advanceTimersByTime(ACK_INTERVAL_MS);
    acks.received(100, ACK_AFTER_BYTES);
    expect(sent).toEqual([ACK_AFTER_FRAMES, 2 * ACK_AFTER_FRAMES, 100]);
  });

  it('starts over after reset and sends nothing after stop', () => {
    const { sent, acks } = pacer();
    acks.received(5);
    acks.received(6);
    acks.reset();
    vi.advanceTimersByTime(ACK_DELAY_MS);
    expect(sent).toEqual([]);
    acks.received(1);
    vi.advanceTimersByTime(ACK_DELAY_MS);
    expect(sent).toEqual([1]);
    acks.received(2);
    acks.stop();
    vi.advanceTimersByTime(ACK_DELAY_MS);
    expect(sent).toEqual([1]);
  });

  it('spreads the delay over sockets, so sockets fed the same frames do not ack in one burst', () => {
    expect(ackDelayOf(ACK_DELAY_MS, () => 0)).toBe(ACK_DELAY_MS);
    expect(ackDelayOf(ACK_DELAY_MS, () => 1)).toBe(ACK_DELAY_MS * (1 - ACK_DELAY_SPREAD));
    const sent: number[] = [];
    const acks = new AckPacer({ send: (ack) => sent.push(ack.seq), now: () => Date.now(), random: () => 1 });
    acks.received(1);
    acks.received(2);
    vi.advanceTimersByTime(ACK_DELAY_MS * (1 - ACK_DELAY_SPREAD));
    expect(sent).toEqual([2]);
  });

  it('takes another delay when given one', () => {
    const sent: number[] = [];
    const acks = new AckPacer({
      send: (ack) => sent.push(ack.seq),
      now: () => Date.now(),
      delayMs: 2_000,
      random: () => 0,
    });
    for (let seq = 1; seq <= 6; seq++) {
      acks.received(seq);
      vi.advanceTimersByTime(1_000);
    }
    expect(sent).toEqual([2, 4, 6]);
  });
});
