import type { LiveSample } from '@pulsewire/protocol';
import { fetchSeries } from './history.ts';

/** Samples of `hostId` in [from, to] (epoch ms); default {@link fetchSeries}. */
export type SeriesFetcher = (
  hostId: string,
  from: number,
  to: number,
  options?: { signal?: AbortSignal },
) => Promise<LiveSample[]>;

export interface HistoryFillerOptions {
  /** History for the fills; default `GET /hosts/:id/series`. */
  fetchSeries?: SeriesFetcher;
  /** The most requests in flight at once; later fills wait their turn, in order. Default: no limit. */
  concurrency?: number;
}

interface Queued {
  run: () => Promise<void>;
  done: () => void;
}

/**
 * Fills live windows from the history API: the window when a view starts and the gap after every
 * reconnect. The points go to the caller's `add`, a {@link RollingSeries} `add` in practice, which
 * merges them with the live samples (sorted, one point per `ts`, so nothing is drawn twice).
 *
 * Best effort: a fill that fails adds nothing and the live stream goes on without it. {@link cancel}
 * (when the view stops) drops the queued fills and aborts the running ones; what they return is not added.
 */
export class HistoryFiller {
  /** Fills queued or in flight. */
  pending = $state(0);

  readonly #fetch: SeriesFetcher;
  readonly #concurrency: number;
  #queue: Queued[] = [];
  #running = 0;
  #controller = new AbortController();

  constructor(options: HistoryFillerOptions = {}) {
    this.#fetch = options.fetchSeries ?? fetchSeries;
    this.#concurrency = Math.max(1, options.concurrency ?? Number.POSITIVE_INFINITY);
  }

  /** Fetches [from, to] of `hostId` and hands the points to `add`; resolves when done, dropped or failed. */
  fill(hostId: string, from: number, to: number, add: (points: LiveSample[]) => void): Promise<void> {
    const signal = this.#controller.signal;
    this.pending++;
    return new Promise<void>((resolve) => {
      const done = () => {
        this.pending--;
        resolve();
      };
      const run = async () => {
        try {
          const points = await this.#fetch(hostId, from, to, { signal });
          if (!signal.aborted) add(points);
        } catch {
          // Best effort: the live stream goes on without it.
        }
      };
      this.#queue.push({ run, done });
      this.#next();
    });
  }

  /** Drops the queued fills and aborts the running ones. Later fills run as usual. */
  cancel(): void {
    const dropped = this.#queue;
    this.#queue = [];
    for (const q of dropped) q.done();
    this.#controller.abort();
    this.#controller = new AbortController();
  }

  #next(): void {
    while (this.#running < this.#concurrency) {
      const q = this.#queue.shift();
      if (!q) return;
      this.#running++;
      void q.run().finally(() => {
        this.#running--;
        q.done();
        this.#next();
      });
    }
  }
}
