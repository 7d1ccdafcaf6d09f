import type { HostStatus } from '@pulsewire/protocol';
import { SvelteMap } from 'svelte/reactivity';
import { RollingSeries } from './rolling-series.svelte.ts';
import type { HostStatusMessage, StreamClient } from './stream-client.svelte.ts';

export interface LiveHostStatus {
  status: HostStatus;
  lastSeenAt: string | null;
}

/**
 * Every host of the organisation at its normal cadence (subscription `"*"`): live status changes
 * for the list's dots and a short rolling window per host for its sparklines.
 */
export class HostsLive {
  /** Status changes received since {@link start}, by host id. */
  readonly statuses = new SvelteMap<string, LiveHostStatus>();
  /** Rolling samples by host id (created on the first sample of a host). */
  readonly series = new SvelteMap<string, RollingSeries>();

  readonly #client: StreamClient;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #onStatus: ((msg: HostStatusMessage) => void) | undefined;

  constructor(
    client: StreamClient,
    options: { windowMs?: number; now?: () => number; onStatus?: (msg: HostStatusMessage) => void } = {},
  ) {
    this.#client = client;
    this.#windowMs = options.windowMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
    this.#onStatus = options.onStatus;
  }

  start(): () => void {
    const offStatus = this.#client.onHostStatus((msg: HostStatusMessage) => {
      this.statuses.set(msg.hostId, { status: msg.status, lastSeenAt: msg.lastSeenAt });
      this.#onStatus?.(msg);
    });
    const offMetrics = this.#client.onMetrics('*', (hostId, samples) => {
      let rolling = this.series.get(hostId);
      if (!rolling) {
        rolling = new RollingSeries({ windowMs: this.#windowMs, now: this.#now });
        this.series.set(hostId, rolling);
      }
      rolling.add(samples);
    });
    const unsubscribe = this.#client.subscribe({ hosts: '*', streams: ['host_status', 'metrics'] });
    const tick = setInterval(() => {
      for (const rolling of this.series.values()) rolling.tick();
    }, 5_000);
    return () => {
      clearInterval(tick);
      offStatus();
      offMetrics();
      unsubscribe();
    };
  }
}
