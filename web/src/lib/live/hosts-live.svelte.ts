import type { HostStatus, LiveSample } from '@pulsewire/protocol';
import { SvelteMap } from 'svelte/reactivity';
import { RollingSeries } from './rolling-series.svelte.ts';
import { fetchSparklines, type SparklinesFetcher } from './sparklines.ts';
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

export interface HostsLiveOptions {
  windowMs?: number;
  now?: () => number;
  onStatus?: (msg: HostStatusMessage) => void;
  /** History for the sparklines' first fill and for gaps; default `GET /hosts/sparklines`, many hosts a request. */
  fetchSparklines?: SparklinesFetcher;
}

/**
 * Every host of the organisation at its normal cadence (subscription `"*"`): live status changes
 * for the list's dots and a short rolling window per host for its sparklines. The windows of the listed
 * hosts are filled from history in one request per page ({@link fill}), and after a reconnect the gaps
 * of every host are filled with one request too.
 */
export class HostsLive {
  /** Status changes received since {@link start}, by host id. */
  readonly statuses = new SvelteMap<string, LiveHostStatus>();
  /** Rolling samples by host id (created on the first sample of a host, live or from history). */
  readonly series = new SvelteMap<string, RollingSeries>();
  /** History requests in flight. */
  fillsPending = $state(0);

  readonly #client: StreamClient;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #onStatus: ((msg: HostStatusMessage) => void) | undefined;
  readonly #fetch: SparklinesFetcher;
  /** Hosts whose window was asked of the history since {@link start}: never asked again. */
  readonly #filled = new Set<string>();
  /** Gaps reported by the client since the last flush: the client reports them host by host, in one go. */
  #gaps = new Map<string, { from: number; to: number }>();
  #gapFlushQueued = false;
  #controller = new AbortController();
  #started = false;

  constructor(client: StreamClient, options: HostsLiveOptions = {}) {
    this.#client = client;
    this.#windowMs = options.windowMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
    this.#onStatus = options.onStatus;
    this.#fetch = options.fetchSparklines ?? fetchSparklines;
  }

  start(): () => void {
    this.#started = true;
    const offStatus = this.#client.onHostStatus((msg: HostStatusMessage) => {
      this.statuses.set(msg.hostId, { status: msg.status, lastSeenAt: msg.lastSeenAt });
      this.#onStatus?.(msg);
    });
    const offMetrics = this.#client.onMetrics('*', (hostId, samples) => this.#add(hostId, samples));
    const offGap = this.#client.onGap((hostId, range) => this.#gap(hostId, range));
    const unsubscribe = this.#client.subscribe({ hosts: '*', streams: ['host_status', 'metrics'] });
    const tick = setInterval(() => {
      for (const rolling of this.series.values()) rolling.tick();
    }, 5_000);
    return () => {
      this.#started = false;
      this.#controller.abort();
      this.#controller = new AbortController();
      this.#filled.clear();
      this.#gaps.clear();
      clearInterval(tick);
      offStatus();
      offMetrics();
      offGap();
      unsubscribe();
    };
  }

  /**
   * Fills the window of the listed hosts from history, once per host while started: call it with each page
   * the list shows; the hosts not asked for before, and seen within the window, go in one request.
   */
  fill(hosts: readonly ListedHost[]): void {
    if (!this.#started) return;
    const to = this.#now();
    const from = to - this.#windowMs;
    const ids: string[] = [];
    for (const host of hosts) {
      if (this.#filled.has(host.id)) continue;
      const lastSeen = host.lastSeenAt === null ? Number.NaN : Date.parse(host.lastSeenAt);
      if (!(lastSeen >= from)) continue;
      this.#filled.add(host.id);
      ids.push(host.id);
    }
    if (ids.length > 0) void this.#load(ids, from, to);
  }

  #gap(hostId: string, range: { from: number; to: number }): void {
    if (!this.#started) return;
    this.#gaps.set(hostId, range);
    if (this.#gapFlushQueued) return;
    this.#gapFlushQueued = true;
    queueMicrotask(() => {
      this.#gapFlushQueued = false;
      const gaps = [...this.#gaps];
      this.#gaps = new Map();
      if (gaps.length === 0 || !this.#started) return;
      // One range covering every gap, no longer than the window: extra points merge by timestamp.
      const to = Math.max(...gaps.map(([, g]) => g.to));
      const from = Math.max(to - this.#windowMs, Math.min(...gaps.map(([, g]) => g.from)));
      void this.#load(
        gaps.map(([id]) => id),
        from,
        to,
      );
    });
  }

  /** Best effort: a failed request adds nothing, and the live stream goes on without it. */
  async #load(ids: readonly string[], from: number, to: number): Promise<void> {
    const signal = this.#controller.signal;
    this.fillsPending++;
    try {
      const byHost = await this.#fetch(ids, from, to, { signal });
      if (signal.aborted) return;
      for (const [hostId, samples] of byHost) this.#add(hostId, samples);
    } catch {
      // The sparklines start from the live stream instead.
    } finally {
      this.fillsPending--;
    }
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
