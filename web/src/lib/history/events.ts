import type { AppEvent } from '@pulsewire/protocol';

/**
 * Application events over a range as a timeline: one lane per subject (a job id), its events as markers at
 * their share of the range, and the job's outcome from its last event.
 */

export type EventOutcome = 'running' | 'completed' | 'failed' | 'other';

export interface EventMarker {
  ts: number;
  kind: string;
  /** Where in the range, 0 (from) to 1 (to). */
  at: number;
  outcome: EventOutcome;
  progress?: number;
  message?: string;
}

export interface EventLane {
  id: string;
  name: string;
  /** Share of the range where the lane's first and last events sit. */
  start: number;
  end: number;
  outcome: EventOutcome;
  markers: EventMarker[];
}

/** `job.started` and `job.progress` say it runs; `*.completed` / `*.failed` how it ended. */
export function outcomeOf(kind: string): EventOutcome {
  const verb = kind.slice(kind.lastIndexOf('.') + 1);
  if (verb === 'started' || verb === 'progress') return 'running';
  if (verb === 'completed' || verb === 'succeeded' || verb === 'done') return 'completed';
  if (verb === 'failed' || verb === 'error') return 'failed';
  return 'other';
}

const share = (ts: number, from: number, to: number) => Math.min(1, Math.max(0, (ts - from) / (to - from)));

/** Lanes, newest activity first, at most `maxLanes`; `hidden` counts the lanes left out. */
export function eventLanes(
  events: readonly AppEvent[],
  from: number,
  to: number,
  maxLanes = 12,
): { lanes: EventLane[]; hidden: number } {
  const bySubject = new Map<string, AppEvent[]>();
  for (const e of events) {
    const list = bySubject.get(e.id);
    if (list) list.push(e);
    else bySubject.set(e.id, [e]);
  }
  const lanes: EventLane[] = [...bySubject].map(([id, list]) => {
    const sorted = [...list].sort((a, b) => a.ts - b.ts);
    const first = sorted[0] as AppEvent;
    const last = sorted.at(-1) as AppEvent;
    return {
      id,
      name: sorted.findLast((e) => e.name)?.name ?? id,
      start: share(first.ts, from, to),
      end: share(last.ts, from, to),
      outcome: outcomeOf(last.kind),
      markers: sorted.map((e) => ({
        ts: e.ts,
        kind: e.kind,
        at: share(e.ts, from, to),
        outcome: outcomeOf(e.kind),
        ...(e.progress !== undefined ? { progress: e.progress } : {}),
        ...(e.message !== undefined ? { message: e.message } : {}),
      })),
    };
  });
  lanes.sort((a, b) => b.end - a.end || a.id.localeCompare(b.id));
  return { lanes: lanes.slice(0, maxLanes), hidden: Math.max(0, lanes.length - maxLanes) };
}

/** Counts per outcome of the events themselves (started, progress, completed, failed…). */
export function eventCounts(events: readonly AppEvent[]): Record<EventOutcome, number> {
  const counts: Record<EventOutcome, number> = { running: 0, completed: 0, failed: 0, other: 0 };
  for (const e of events) counts[outcomeOf(e.kind)]++;
  return counts;
}
