import type { HostStatus, LiveSample } from '@pulsewire/protocol';
import { SvelteMap } from 'svelte/reactivity';
import { HistoryFiller, type SeriesFetcher } from './history-fill.svelte.ts';
import { RollingSeries } from './rolling-series.svelte.ts';
import type { HostStatusMessage, StreamClient } from './stream-client.svelte.ts';

export interface LiveHostStatus {
  status: HostStatus;
  lastSeenAt: string | null;
}

/** What {@link HostsLive.fill} needs of a listed host. */
export interface ListedHost {
  id: string;
  /** ISO 8601; a host not seen within the window has no history in it to fetch. */
  lastSeenAt: string | null;
}

/** History requests in flight at once while the list fills its sparklines. */
export const FILL_CONCURRENCY = 4;

export interface HostsLiveOptions {
  windowMs?: number;
  now?: () => number;
  onStatus?: (msg: HostStatusMessage) => void;
  /** History for the sparklines' first fill and for gaps; default `GET /hosts/:id/series`. */
  fetchSeries?: SeriesFetcher;
  /** The most history requests in flight at once (default {@link FILL_CONCURRENCY}). */
  fillConcurrency?: number;
}

/**
 * Every host of the organisation at its normal cadence (subscription `"*"`): live status changes
 * for the list's dots and a short rolling window per host for its sparklines, filled from history
 * once per listed host ({@link fill}) and after every reconnect, as {@link HostLive} does for one host.
 */
export class HostsLive {
  /** Status changes received since {@link start}, by host id. */
  readonly statuses = new SvelteMap<string, LiveHostStatus>();
  /** Rolling samples by host id (created on the first sample of a host, live or from history). */
  readonly series = new SvelteMap<string, RollingSeries>();

  readonly #client: StreamClient;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #onStatus: ((msg: HostStatusMessage) => void) | undefined;
  readonly #fills: HistoryFiller;
  /** Hosts whose window was asked of the history since {@link start}: never asked again. */
  readonly #filled = new Set<string>();
  #started = false;

  constructor(client: StreamClient, options: HostsLiveOptions = {}) {
    this.#client = client;
    this.#windowMs = options.windowMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
    this.#onStatus = options.onStatus;
    this.#fills = new HistoryFiller({
      concurrency: options.fillConcurrency ?? FILL_CONCURRENCY,
      ...(options.fetchSeries ? { fetchSeries: options.fetchSeries } : {}),
    });
  }

  /** History fills queued or in flight. */
  get fillsPending(): number {
    return this.#fills.pending;
  }

  start(): () => void {
    this.#started = true;
    const offStatus = this.#client.onHostStatus((msg: HostStatusMessage) => {
      this.statuses.set(msg.hostId, { status: msg.status, lastSeenAt: msg.lastSeenAt });
      this.#onStatus?.(msg);
    });
    const offMetrics = this.#client.onMetrics('*', (hostId, samples) => this.#add(hostId, samples));
    const offGap = this.#client.onGap((hostId, { from, to }) => this.#fill(hostId, from, to));
    const unsubscribe = this.#client.subscribe({ hosts: '*', streams: ['host_status', 'metrics'] });
    const tick = setInterval(() => {
      for (const rolling of this.series.values()) rolling.tick();
    }, 5_000);
    return () => {
      this.#started = false;
      this.#fills.cancel();
      this.#filled.clear();
      clearInterval(tick);
      offStatus();
      offMetrics();
      offGap();
      unsubscribe();
    };
  }

  /**
   * Fills the window of every listed host from history, once per host while started: call it with
   * each answer of the list, only hosts not asked for before are fetched, in list order, at most
   * `fillConcurrency` at a time. Hosts not seen within the window are skipped until they are.
   */
  fill(hosts: readonly ListedHost[]): void {
    if (!this.#started) return;
    const to = this.#now();
    const from = to - this.#windowMs;
    for (const host of hosts) {
      if (this.#filled.has(host.id)) continue;
      const lastSeen = host.lastSeenAt === null ? Number.NaN : Date.parse(host.lastSeenAt);
      if (!(lastSeen >= from)) continue;
      this.#filled.add(host.id);
      this.#fill(host.id, from, to);
    }
  }

  #fill(hostId: string, from: number, to: number): void {
    void this.#fills.fill(hostId, from, to, (points) => this.#add(hostId, points));
  }

  #add(hostId: string, samples: readonly LiveSample[]): void {
    if (samples.length === 0) return;
    let rolling = this.series.get(hostId);
    if (!rolling) {
      rolling = new RollingSeries({ windowMs: this.#windowMs, now: this.#now });
      this.series.set(hostId, rolling);
    }
    rolling.add(samples);
  }
}
