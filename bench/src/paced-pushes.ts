/** A start this much after its slot is counted late (a timer firing a few ms past its time is not). */
export const LATE_AFTER_MS = 100;

export interface PacedStart {
  /** When the push was due (ms, `performance.timeOrigin + performance.now()` clock). */
  scheduledAt: number;
  /** When it started. */
  startedAt: number;
  /** When its answer came (null: it failed). */
  answeredAt: number | null;
  error?: string;
}

export interface PacedRun {
  starts: PacedStart[];
  /** Starts more than {@link LATE_AFTER_MS} after their slot: the in-flight bound held them back. */
  late: number;
  /** The most pushes in flight at once. */
  maxInFlight: number;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `count` pushes on a fixed schedule, `intervalMs` apart from the first, as an agent at the live cadence
 * does: whether or not the previous answer came back. At most `maxInFlight` are outstanding; a push due while
 * that many are waits for one to answer, and is late. `waitForAnswers`: the old behaviour, each push waits for
 * the previous answer (and then for its slot, if that is still ahead). `push` gets the push's index and the
 * moment it starts; a push that throws is recorded with its error, not retried.
 */
export async function pacedPushes(options: {
  count: number;
  intervalMs: number;
  maxInFlight: number;
  waitForAnswers?: boolean;
  push: (index: number, startedAt: number) => Promise<unknown>;
}): Promise<PacedRun> {
  const limit = options.waitForAnswers ? 1 : Math.max(1, options.maxInFlight);
  const starts: PacedStart[] = [];
  const inFlight = new Set<Promise<void>>();
  let maxInFlight = 0;
  const first = now();
  for (let index = 0; index < options.count; index++) {
    const scheduledAt = first + index * options.intervalMs;
    await sleep(Math.max(0, scheduledAt - now()));
    while (inFlight.size >= limit) await Promise.race(inFlight);
    const start: PacedStart = { scheduledAt, startedAt: now(), answeredAt: null };
    starts.push(start);
    const pending = options.push(index, start.startedAt).then(
      () => {
        start.answeredAt = now();
      },
      (error: unknown) => {
        start.error = error instanceof Error ? error.message : String(error);
      },
    );
    const tracked = pending.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    maxInFlight = Math.max(maxInFlight, inFlight.size);
  }
  await Promise.all(inFlight);
  return {
    starts,
    late: starts.filter((s) => s.startedAt - s.scheduledAt > LATE_AFTER_MS).length,
    maxInFlight,
  };
}

/** Start-to-start spacing of consecutive pushes (ms). */
export function spacings(starts: readonly PacedStart[]): number[] {
  return starts.slice(1).map((s, i) => s.startedAt - (starts[i] as PacedStart).startedAt);
}
