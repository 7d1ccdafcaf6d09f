import type { AppEvent } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { eventCounts, eventLanes, outcomeOf } from './events.ts';

const FROM = 1_000_000;
const TO = FROM + 1000;
const e = (ts: number, kind: string, id: string, extra: Partial<AppEvent> = {}): AppEvent => ({
  ts,
  kind,
  id,
  ...extra,
});

describe('events timeline', () => {
  it('reads a job’s state from the verb of its kind', () => {
    expect(outcomeOf('job.started')).toBe('running');
    expect(outcomeOf('job.progress')).toBe('running');
    expect(outcomeOf('job.completed')).toBe('completed');
    expect(outcomeOf('job.failed')).toBe('failed');
    expect(outcomeOf('deploy')).toBe('other');
  });

  it('puts each job on its own lane, markers at their share of the range, the outcome from its last event', () => {
    // Newest first, as the API answers.
    const events = [
      e(FROM + 900, 'job.failed', 'b', { message: 'disk full' }),
      e(FROM + 800, 'job.completed', 'a'),
      e(FROM + 500, 'job.progress', 'a', { progress: 0.5 }),
      e(FROM + 400, 'job.started', 'b', { name: 'backup' }),
      e(FROM + 200, 'job.started', 'a', { name: 'reindex' }),
    ];
    const { lanes, hidden } = eventLanes(events, FROM, TO);
    expect(hidden).toBe(0);
    expect(lanes.map((l) => [l.id, l.name, l.outcome, l.start, l.end])).toEqual([
      ['b', 'backup', 'failed', 0.4, 0.9],
      ['a', 'reindex', 'completed', 0.2, 0.8],
    ]);
    expect(lanes[1]?.markers.map((m) => [m.kind, m.at, m.progress])).toEqual([
      ['job.started', 0.2, undefined],
      ['job.progress', 0.5, 0.5],
      ['job.completed', 0.8, undefined],
    ]);
    expect(lanes[0]?.markers.at(-1)?.message).toBe('disk full');
    expect(eventCounts(events)).toEqual({ running: 3, completed: 1, failed: 1, other: 0 });
  });

  it('keeps markers inside the range and shows the most recent lanes first, counting the rest', () => {
    const events = Array.from({ length: 5 }, (_, i) => e(FROM + i * 100 - 50, 'job.started', `j${i}`));
    const { lanes, hidden } = eventLanes(events, FROM, TO, 3);
    expect(lanes.map((l) => l.id)).toEqual(['j4', 'j3', 'j2']);
    expect(hidden).toBe(2);
    const first = eventLanes(events, FROM, TO).lanes.at(-1);
    expect(first?.start).toBe(0);
    expect(first?.name).toBe('j0');
  });
});
