import type { LiveSample } from '@pulsewire/protocol';
import { fetchSeries } from './history.ts';
import { RollingSeries } from './rolling-series.svelte.ts';
import type { StreamClient } from './stream-client.svelte.ts';

export type SeriesFetcher = (hostId: string, from: number, to: number) => Promise<LiveSample[]>;

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
  /** A history fill is in flight. */
  filling = $state(false);

  readonly #client: StreamClient;
  readonly #hostId: string;
  readonly #fetch: SeriesFetcher;
  readonly #now: () => number;
  readonly #tickMs: number;

  constructor(client: StreamClient, hostId: string, options: HostLiveOptions = {}) {
    this.#client = client;
    this.#hostId = hostId;
    this.#now = options.now ?? Date.now;
    this.#fetch = options.fetchSeries ?? fetchSeries;
    this.#tickMs = options.tickMs ?? 1_000;
    this.rolling = new RollingSeries({ now: this.#now, ...(options.windowMs ? { windowMs: options.windowMs } : {}) });
  }

  /** The server refused the host as not the organisation's (`unknown_host`): nothing will arrive. */
  get unknownHost(): boolean {
    return this.#client.unknownHosts.has(this.#hostId);
  }

  /** Starts watching; returns the function that stops it. */
  start(): () => void {
    let stopped = false;
    const offMetrics = this.#client.onMetrics(this.#hostId, (_hostId, samples) => this.rolling.add(samples));
    const offGap = this.#client.onGap((hostId, { from, to }) => {
      if (hostId === this.#hostId) void this.#fill(from, to, () => stopped);
    });
    const unsubscribe = this.#client.subscribe({ hosts: [this.#hostId], streams: ['metrics'] });
    const tick = setInterval(() => this.rolling.tick(), this.#tickMs);
    const to = this.#now();
    void this.#fill(to - this.rolling.windowMs, to, () => stopped);
    return () => {
      stopped = true;
      clearInterval(tick);
      offMetrics();
      offGap();
      unsubscribe();
    };
  }

  async #fill(from: number, to: number, stopped: () => boolean): Promise<void> {
    this.filling = true;
    try {
      const points = await this.#fetch(this.#hostId, from, to);
      if (!stopped()) this.rolling.add(points);
    } catch {
      // A fill is best effort: the live stream goes on without it.
    } finally {
      this.filling = false;
    }
  }
}
