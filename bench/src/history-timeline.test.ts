import { describe, expect, it } from 'vitest';
import { historyTimeline } from './history-timeline.ts';

const at = (day: number, hour: number, minute = 0) => Date.UTC(2026, 3, day, hour, minute);

describe('the history timeline the jobs leave', () => {
  it('has raw chunks and roll-ups up to the last hour closed past the grace, landing rows after', () => {
    const timeline = historyTimeline(at(10, 14, 30), 30, 7);
    expect(timeline.start).toBe(Date.UTC(2026, 2, 11, 14));
    expect(timeline.compactedUntil).toBe(at(10, 14));
    expect(timeline.rollupFrom).toBe(Date.UTC(2026, 2, 11));
    expect(timeline.rolledUpUntil).toBe(at(10, 14));
    expect(timeline.baselineFrom).toBe(at(3, 0));
  });

  it('leaves an hour to landing rows until its grace has passed', () => {
    expect(historyTimeline(at(10, 14, 5), 30, 7).compactedUntil).toBe(at(10, 13));
    // Roll-ups follow compaction hour by hour: just after midnight the last hour of the day is not in yet.
    expect(historyTimeline(at(10, 0, 5), 30, 7).rolledUpUntil).toBe(at(9, 23));
  });

  it('never starts the baseline before the data', () => {
    const timeline = historyTimeline(at(10, 14, 30), 2, 7);
    expect(timeline.baselineFrom).toBe(timeline.start);
  });
});
