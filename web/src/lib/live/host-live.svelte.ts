import { HistoryFiller, type SeriesFetcher } from './history-fill.svelte.ts';
import { RollingSeries } from './rolling-series.svelte.ts';
import type { StreamClient } from './stream-client.svelte.ts';

export type { SeriesFetcher } from './history-fill.svelte.ts';

export interface HostLiveOptions {
  windowMs?: number;
  /** History for the initial fill and for gaps; default `GET /hosts/:id/series`. */
  fetchSeries?: SeriesFetcher;
  now?: () => number;
  /** How often the window slides when no sample arrives. */
  tickMs?: number;
}

/**
 * One host watched live: subscribes to its `metrics` by id (which makes its agent push every
 * second), feeds a {@link RollingSeries}, fills the window from history when it starts and fills
 * the gap after every reconnect.
 */
export class HostLive {
  readonly rolling: RollingSeries;

  readonly #client: StreamClient;
  readonly #hostId: string;
  readonly #fills: HistoryFiller;
  readonly #now: () => number;
  readonly #tickMs: number;

  constructor(client: StreamClient, hostId: string, options: HostLiveOptions = {}) {
    this.#client = client;
    this.#hostId = hostId;
    this.#now = options.now ?? Date.now;
    this.#fills = new HistoryFiller(options.fetchSeries ? { fetchSeries: options.fetchSeries } : {});
    this.#tickMs = options.tickMs ?? 1_000;
    this.rolling = new RollingSeries({ now: this.#now, ...(options.windowMs ? { windowMs: options.windowMs } : {}) });
  }

  /** A history fill is in flight. */
  get filling(): boolean {
    return this.#fills.pending > 0;
  }

  /** The server refused the host as not the organisation's (`unknown_host`): nothing will arrive. */
  get unknownHost(): boolean {
    return this.#client.unknownHosts.has(this.#hostId);
  }

  /** Starts watching; returns the function that stops it. */
  start(): () => void {
    const offMetrics = this.#client.onMetrics(this.#hostId, (_hostId, samples) => this.rolling.add(samples));
    const offGap = this.#client.onGap((hostId, { from, to }) => {
      if (hostId === this.#hostId) this.#fill(from, to);
    });
    const unsubscribe = this.#client.subscribe({ hosts: [this.#hostId], streams: ['metrics'] });
    const tick = setInterval(() => this.rolling.tick(), this.#tickMs);
    const to = this.#now();
    this.#fill(to - this.rolling.windowMs, to);
    return () => {
      this.#fills.cancel();
      clearInterval(tick);
      offMetrics();
      offGap();
      unsubscribe();
    };
  }

  #fill(from: number, to: number): void {
    void this.#fills.fill(this.#hostId, from, to, (points) => this.rolling.add(points));
  }
}
