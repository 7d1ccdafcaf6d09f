import {
  AckPacer,
  type ClientSubscribe,
  type ClientUnsubscribe,
  KEEPALIVE_PING,
  type LiveSample,
  type ServerAlert,
  type ServerError,
  type ServerEvent,
  type ServerHostStatus,
  ServerMessage,
  STREAM_CLOSE,
  STREAM_PATH,
  type StreamKind,
  type SubscriptionFilters,
} from '@pulsewire/protocol';
import { SvelteSet } from 'svelte/reactivity';
import type { z } from 'zod';

/**
 * The dashboard's live stream (design.md, "Dashboard WebSocket protocol"): one WebSocket per tab to
 * `GET /api/v1/stream`, shared by every component through ref-counted subscriptions.
 *
 * - Every server frame is validated with the protocol's `ServerMessage`; invalid frames are dropped
 *   and counted in {@link StreamClient.invalidMessages}.
 * - Subscriptions are kept as a ref-counted set of (host or `*`, stream, filters) units. When the
 *   set of streams wanted for a host changes (first subscriber in, last one out) the client sends
 *   that host's whole subscription again, or `unsubscribe` when nothing is left; the whole set is
 *   re-sent after every reconnect.
 * - Reconnects use exponential backoff with jitter, capped, reset after a connection stayed up for a
 *   while. Close codes that mean "stop" (unauthorized, policy violation) end the client instead.
 * - After a reconnect, gap handlers get the time range missed per host (from its last received
 *   sample to now) so views can fill it from the history API.
 * - Flow control: every data frame carries `seq`; the client acknowledges the latest within 5–10 s, sooner
 *   when many frames come, never more than every 250 ms ({@link AckPacer}), or the server takes it for a
 *   stalled reader and closes it (1013).
 * - Hosts the server refuses as not the organisation's (`unknown_host`) are listed in
 *   {@link StreamClient.unknownHosts} and not asked for again, not even after a reconnect, until
 *   their subscribers leave.
 */

export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The part of the browser's WebSocket the client uses; tests pass a fake. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

/** WebSocket.OPEN */
const OPEN = 1;

export interface BackoffOptions {
  /** First delay before a reconnect (ms). */
  initialMs: number;
  /** The cap (ms). */
  maxMs: number;
  /** Growth per failed attempt. */
  factor: number;
  /** Fraction of the delay that is randomised away (0 … 1): delay × (1 − jitter × random). */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0.3 };
/** How often `{"type":"ping"}` is sent while open. */
export const KEEPALIVE_INTERVAL_MS = 25_000;
/** A connection that stayed up this long resets the backoff. */
export const STABLE_AFTER_MS = 10_000;

/** Close codes after which reconnecting would not help. */
const STOP_CODES: ReadonlySet<number> = new Set([STREAM_CLOSE.unauthorized, STREAM_CLOSE.policyViolation]);

export interface StreamClientOptions {
  /** The socket URL; default `ws(s)://<location.host>/api/v1/stream`. */
  url?: string | (() => string);
  /** Creates the socket; default `new WebSocket(url)`. */
  createSocket?: SocketFactory;
  backoff?: Partial<BackoffOptions>;
  keepaliveMs?: number;
  stableAfterMs?: number;
  /** Random number in [0, 1) for the jitter. */
  random?: () => number;
  /** Epoch milliseconds. */
  now?: () => number;
  /** The server closed with "unauthorized" (4001): the session is gone. */
  onUnauthorized?: () => void;
}

export interface SubscribeRequest {
  hosts: '*' | readonly string[];
  streams: readonly StreamKind[];
  filters?: SubscriptionFilters;
}

export type HostStatusMessage = z.infer<typeof ServerHostStatus>;
export type EventMessage = z.infer<typeof ServerEvent>;
export type AlertMessage = z.infer<typeof ServerAlert>;
export type ErrorMessage = z.infer<typeof ServerError>;

export type MetricsHandler = (hostId: string, samples: LiveSample[]) => void;
/** `from`/`to` are epoch milliseconds. */
export type GapHandler = (hostId: string, range: { from: number; to: number }) => void;

interface Unit {
  host: string;
  stream: StreamKind;
  filters: SubscriptionFilters | undefined;
  filtersKey: string;
  count: number;
}

type Handlers = {
  metrics: Map<string, Set<MetricsHandler>>;
  hostStatus: Set<(msg: HostStatusMessage) => void>;
  event: Set<(msg: EventMessage) => void>;
  alert: Set<(msg: AlertMessage) => void>;
  error: Set<(msg: ErrorMessage) => void>;
  gap: Set<GapHandler>;
};

export class StreamClient {
  /** Where the connection stands; `closed` before {@link connect} and after {@link close} or a stop code. */
  state = $state<StreamState>('closed');
  /** Server frames that were not JSON or did not match `ServerMessage`, since the client was created. */
  invalidMessages = $state(0);
  /** Reconnect attempts since the last stable connection. */
  attempt = $state(0);
  /** The close code that stopped the client, when one did. */
  stoppedBy = $state<number | null>(null);
  /** When the last frame arrived (epoch ms), or null. */
  lastMessageAt = $state<number | null>(null);
  /** Host ids the server answered `unknown_host` for: not in this organisation. */
  readonly unknownHosts = new SvelteSet<string>();

  readonly #opts: Required<Omit<StreamClientOptions, 'url' | 'onUnauthorized' | 'backoff'>> & {
    backoff: BackoffOptions;
  };
  readonly #url: string | (() => string);
  onUnauthorized: (() => void) | undefined;

  #socket: SocketLike | null = null;
  #wanted = false;
  #everOpened = false;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #stableTimer: ReturnType<typeof setTimeout> | null = null;
  #pingTimer: ReturnType<typeof setInterval> | null = null;
  readonly #acks: AckPacer;
  #units = new Map<string, Unit>();
  /** What the server holds per selector since the socket opened. */
  #sent = new Map<string, Desired>();
  #lastSampleTs = new Map<string, number>();
  #nextId = 1;
  #handlers: Handlers = {
    metrics: new Map(),
    hostStatus: new Set(),
    event: new Set(),
    alert: new Set(),
    error: new Set(),
    gap: new Set(),
  };

  constructor(options: StreamClientOptions = {}) {
    this.#url = options.url ?? defaultUrl;
    this.onUnauthorized = options.onUnauthorized;
    this.#opts = {
      createSocket: options.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike),
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
      keepaliveMs: options.keepaliveMs ?? KEEPALIVE_INTERVAL_MS,
      stableAfterMs: options.stableAfterMs ?? STABLE_AFTER_MS,
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
    };
    this.#acks = new AckPacer({
      send: (ack) => this.#send(JSON.stringify(ack)),
      now: this.#opts.now,
      random: this.#opts.random,
    });
  }

  /** Opens the socket (no-op when already connecting or open). */
  connect(): void {
    if (this.#wanted) return;
    this.#wanted = true;
    this.stoppedBy = null;
    this.attempt = 0;
    this.#everOpened = false;
    this.#lastSampleTs.clear();
    // Possibly another organisation's socket: its hosts are other ones.
    this.unknownHosts.clear();
    this.#open('connecting');
  }

  /** Closes the socket and stops reconnecting. Subscriptions are kept and re-sent on the next {@link connect}. */
  close(): void {
    this.#wanted = false;
    this.#clearTimers();
    const socket = this.#socket;
    this.#socket = null;
    if (socket) {
      detach(socket);
      try {
        socket.close(1000, 'client closed');
      } catch {
        // already closed
      }
    }
    this.state = 'closed';
  }

  /** While waiting to reconnect (e.g. the browser came back online): try now instead. */
  retryNow(): void {
    if (!this.#wanted || !this.#reconnectTimer) return;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    this.#open('reconnecting');
  }

  /**
   * Adds a subscription; returns its disposer. Units already held by another subscriber are shared:
   * only units that become wanted are sent, and the disposer only unsubscribes units nobody else holds.
   */
  subscribe(request: SubscribeRequest): () => void {
    const hosts = request.hosts === '*' ? ['*'] : [...new Set(request.hosts)];
    const streams = [...new Set(request.streams)];
    const filtersKey = canonical(request.filters);
    const added: Unit[] = [];
    const keys: string[] = [];
    for (const host of hosts) {
      for (const stream of streams) {
        const key = unitKey(host, stream, filtersKey);
        keys.push(key);
        let unit = this.#units.get(key);
        if (!unit) {
          unit = { host, stream, filters: request.filters, filtersKey, count: 0 };
          this.#units.set(key, unit);
          added.push(unit);
        }
        unit.count++;
      }
    }
    if (added.length > 0) this.#sync(hosts);

    let disposed = false;
    return () => {
      if (disposed) return;
      disposed = true;
      const removed: Unit[] = [];
      for (const key of keys) {
        const unit = this.#units.get(key);
        if (!unit) continue;
        unit.count--;
        if (unit.count <= 0) {
          this.#units.delete(key);
          removed.push(unit);
        }
      }
      if (removed.length === 0) return;
      const hosts = [...new Set(removed.map((u) => u.host))];
      // Nobody wants it any more: a later subscriber may ask again (the host may be enrolled by then).
      for (const host of hosts) if (!this.#wantsHost(host)) this.unknownHosts.delete(host);
      this.#sync(hosts);
    };
  }

  /** The subscription units currently wanted, e.g. `["*|host_status", "h1|metrics"]` (for tests and debugging). */
  get subscriptions(): string[] {
    return [...this.#units.values()].map((u) => `${u.host}|${u.stream}${u.filtersKey ? `|${u.filtersKey}` : ''}`);
  }

  /** New samples of `hostId` (or of every host with `'*'`). */
  onMetrics(hostId: string, handler: MetricsHandler): () => void {
    let set = this.#handlers.metrics.get(hostId);
    if (!set) {
      set = new Set();
      this.#handlers.metrics.set(hostId, set);
    }
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0 && this.#handlers.metrics.get(hostId) === set) this.#handlers.metrics.delete(hostId);
    };
  }

  onHostStatus(handler: (msg: HostStatusMessage) => void): () => void {
    return addTo(this.#handlers.hostStatus, handler);
  }

  onEvent(handler: (msg: EventMessage) => void): () => void {
    return addTo(this.#handlers.event, handler);
  }

  onAlert(handler: (msg: AlertMessage) => void): () => void {
    return addTo(this.#handlers.alert, handler);
  }

  onError(handler: (msg: ErrorMessage) => void): () => void {
    return addTo(this.#handlers.error, handler);
  }

  /** After a reconnect: the range each host with metrics missed, from its last received sample to now. */
  onGap(handler: GapHandler): () => void {
    return addTo(this.#handlers.gap, handler);
  }

  /** The delay before reconnect attempt `attempt` (0-based), with jitter. */
  backoffDelay(attempt: number): number {
    const { initialMs, maxMs, factor, jitter } = this.#opts.backoff;
    const base = Math.min(maxMs, initialMs * factor ** attempt);
    return Math.round(base * (1 - jitter * this.#opts.random()));
  }

  #open(state: 'connecting' | 'reconnecting'): void {
    this.state = state;
    let socket: SocketLike;
    try {
      const url = typeof this.#url === 'function' ? this.#url() : this.#url;
      socket = this.#opts.createSocket(url);
    } catch {
      this.#scheduleReconnect();
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      if (this.#socket !== socket) return;
      this.#onOpen();
    };
    socket.onmessage = (event) => {
      if (this.#socket !== socket) return;
      this.#onMessage(event.data);
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#onClose(event.code);
    };
    socket.onerror = () => {
      // A close event follows; nothing to do here.
    };
  }

  #onOpen(): void {
    const reconnected = this.#everOpened;
    this.#everOpened = true;
    this.state = 'open';
    this.lastMessageAt = this.#opts.now();
    this.#sent.clear();
    this.#acks.reset();
    this.#sync(this.#wantedHosts());
    this.#stableTimer = setTimeout(() => {
      this.#stableTimer = null;
      this.attempt = 0;
    }, this.#opts.stableAfterMs);
    this.#pingTimer = setInterval(() => this.#keepalive(), this.#opts.keepaliveMs);
    if (reconnected) this.#reportGaps();
  }

  #keepalive(): void {
    const socket = this.#socket;
    if (!socket) return;
    const now = this.#opts.now();
    // Nothing (not even a pong) for more than two intervals: the connection is dead without a close.
    if (this.lastMessageAt !== null && now - this.lastMessageAt > this.#opts.keepaliveMs * 2.5) {
      detach(socket);
      try {
        socket.close(4000, 'keepalive timeout');
      } catch {
        // ignore
      }
      this.#onClose(1006);
      return;
    }
    this.#send(KEEPALIVE_PING);
  }

  #reportGaps(): void {
    const to = this.#opts.now();
    for (const [hostId, from] of this.#lastSampleTs) {
      if (!this.#wantsMetrics(hostId)) {
        this.#lastSampleTs.delete(hostId);
        continue;
      }
      if (from >= to) continue;
      for (const handler of [...this.#handlers.gap]) safely(() => handler(hostId, { from, to }));
    }
  }

  #wantsHost(host: string): boolean {
    for (const unit of this.#units.values()) if (unit.host === host) return true;
    return false;
  }

  #wantsMetrics(hostId: string): boolean {
    for (const unit of this.#units.values()) {
      if (unit.stream === 'metrics' && (unit.host === '*' || unit.host === hostId)) return true;
    }
    return false;
  }

  #onMessage(data: unknown): void {
    this.lastMessageAt = this.#opts.now();
    let json: unknown;
    try {
      json = typeof data === 'string' ? JSON.parse(data) : undefined;
    } catch {
      json = undefined;
    }
    const parsed = ServerMessage.safeParse(json);
    if (!parsed.success) {
      this.invalidMessages++;
      return;
    }
    const msg = parsed.data;
    if ('seq' in msg) this.#acks.received(msg.seq, typeof data === 'string' ? data.length : 0);
    switch (msg.type) {
      case 'metrics': {
        if (msg.samples.length === 0) return;
        let newest = this.#lastSampleTs.get(msg.hostId) ?? -Infinity;
        for (const s of msg.samples) newest = Math.max(newest, s.ts);
        this.#lastSampleTs.set(msg.hostId, newest);
        for (const key of [msg.hostId, '*']) {
          const set = this.#handlers.metrics.get(key);
          if (set) for (const h of [...set]) safely(() => h(msg.hostId, msg.samples));
        }
        return;
      }
      case 'host_status':
        for (const h of [...this.#handlers.hostStatus]) safely(() => h(msg));
        return;
      case 'host_statuses':
        // A snapshot or an alarm's batch of changes: each entry reads as one host_status message.
        for (const entry of msg.statuses) {
          const one: HostStatusMessage = { type: 'host_status', seq: msg.seq, at: msg.at, ...entry };
          for (const h of [...this.#handlers.hostStatus]) safely(() => h(one));
        }
        return;
      case 'event':
        for (const h of [...this.#handlers.event]) safely(() => h(msg));
        return;
      case 'alert':
        for (const h of [...this.#handlers.alert]) safely(() => h(msg));
        return;
      case 'error':
        if (msg.code === 'unknown_host') {
          // The subscribe was refused whole: the server holds nothing for these hosts.
          for (const host of msg.hostIds ?? []) {
            this.#sent.delete(host);
            if (this.#wantsHost(host)) this.unknownHosts.add(host); // unless its subscribers left meanwhile
          }
        }
        for (const h of [...this.#handlers.error]) safely(() => h(msg));
        return;
      default:
        // hello, subscribed, pong, status: nothing to dispatch.
        return;
    }
  }

  #onClose(code: number): void {
    this.#clearTimers();
    if (this.#socket) detach(this.#socket);
    this.#socket = null;
    if (!this.#wanted) {
      this.state = 'closed';
      return;
    }
    if (STOP_CODES.has(code)) {
      this.#wanted = false;
      this.stoppedBy = code;
      this.state = 'closed';
      if (code === STREAM_CLOSE.unauthorized) safely(() => this.onUnauthorized?.());
      return;
    }
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    this.state = 'reconnecting';
    const delay = this.backoffDelay(this.attempt);
    this.attempt++;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (this.#wanted) this.#open('reconnecting');
    }, delay);
  }

  /** Every host (and `*`) some unit wants, `*` first. */
  #wantedHosts(): string[] {
    const hosts = new Set<string>();
    for (const unit of this.#units.values()) hosts.add(unit.host);
    return [...hosts].sort((a, b) => (a === '*' ? -1 : b === '*' ? 1 : 0));
  }

  /**
   * Brings the server's subscriptions for `hosts` in line with the wanted units. The server keeps
   * one subscription per host selector and a `subscribe` replaces the one with the same selector,
   * so the client holds exactly one per selector (`*` or a single host id) and always sends its
   * whole stream set. `unsubscribe` with `*` strips streams from every subscription, so explicit
   * hosts that lose streams that way are sent again.
   */
  #sync(hosts: readonly string[]): void {
    if (!this.#socket || this.#socket.readyState !== OPEN) return;
    const ordered = [...hosts].sort((a, b) => (a === '*' ? -1 : b === '*' ? 1 : 0));
    for (const host of ordered) {
      if (this.unknownHosts.has(host)) continue;
      const want = desiredFor(host, this.#units.values());
      const sent = this.#sent.get(host);
      if (!want) {
        if (!sent) continue;
        this.#sent.delete(host);
        if (host === '*') {
          this.#sendFrame({ type: 'unsubscribe', hosts: '*', streams: sent.streams });
          // That also removed these streams from explicit hosts: send theirs again.
          for (const [other, held] of [...this.#sent]) {
            if (held.streams.some((st) => sent.streams.includes(st))) {
              this.#sent.delete(other);
              this.#sync([other]);
            }
          }
        } else {
          this.#sendFrame({ type: 'unsubscribe', hosts: [host] });
        }
        continue;
      }
      if (sent && sent.key === want.key) continue;
      this.#sent.set(host, want);
      this.#sendFrame({
        type: 'subscribe',
        hosts: host === '*' ? '*' : [host],
        streams: want.streams,
        ...(want.filters ? { filters: want.filters } : {}),
      });
    }
  }

  #sendFrame(frame: Omit<ClientSubscribe, 'id'> | Omit<ClientUnsubscribe, 'id'>): void {
    // `type` first, then the id, then the rest: the frames read the same in logs and tests.
    const { type, ...rest } = frame;
    this.#send(JSON.stringify({ type, id: `s${this.#nextId++}`, ...rest }));
  }

  #send(data: string): void {
    const socket = this.#socket;
    if (!socket || socket.readyState !== OPEN) return;
    try {
      socket.send(data);
    } catch {
      // The close event will follow.
    }
  }

  #clearTimers(): void {
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    if (this.#stableTimer) clearTimeout(this.#stableTimer);
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#acks.stop();
    this.#reconnectTimer = null;
    this.#stableTimer = null;
    this.#pingTimer = null;
  }
}

interface Desired {
  streams: StreamKind[];
  filters: SubscriptionFilters | undefined;
  /** Streams and filters as one comparable text. */
  key: string;
}

/**
 * What the server should hold for one selector: every wanted stream, and filters merged so that
 * no subscriber gets less than it asked for (a stream with an unfiltered subscriber is unfiltered;
 * otherwise the union of container names and event kinds, and the lowest alert level).
 */
function desiredFor(host: string, units: Iterable<Unit>): Desired | null {
  const mine = [...units].filter((u) => u.host === host);
  if (mine.length === 0) return null;
  const streams = [...new Set(mine.map((u) => u.stream))].sort();
  const of = (stream: StreamKind) => mine.filter((u) => u.stream === stream).map((u) => u.filters ?? {});
  const filters: SubscriptionFilters = {};
  const alerts = of('alerts');
  if (alerts.length > 0 && alerts.every((f) => f.minAlertLevel)) {
    filters.minAlertLevel = alerts.some((f) => f.minAlertLevel === 'warning') ? 'warning' : 'critical';
  }
  const metrics = of('metrics');
  if (metrics.length > 0 && metrics.every((f) => f.containers)) {
    filters.containers = [...new Set(metrics.flatMap((f) => f.containers ?? []))].sort();
  }
  const events = of('events');
  if (events.length > 0 && events.every((f) => f.eventKinds)) {
    filters.eventKinds = [...new Set(events.flatMap((f) => f.eventKinds ?? []))].sort();
  }
  const hasFilters = Object.keys(filters).length > 0;
  return {
    streams,
    filters: hasFilters ? filters : undefined,
    key: JSON.stringify([streams, hasFilters ? canonical(filters) : '']),
  };
}

function unitKey(host: string, stream: StreamKind, filtersKey: string): string {
  return `${host}\u0000${stream}\u0000${filtersKey}`;
}

/** A stable text for filters, so equal filters share a unit. */
function canonical(filters: SubscriptionFilters | undefined): string {
  if (!filters) return '';
  const entries = Object.entries(filters)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => [k, Array.isArray(v) ? [...v].sort() : v]);
  return entries.length > 0 ? JSON.stringify(entries) : '';
}

function addTo<T>(set: Set<T>, handler: T): () => void {
  set.add(handler);
  return () => {
    set.delete(handler);
  };
}

function detach(socket: SocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = null;
}

/** A failing handler must not break the others or the socket. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    console.error('[live] handler failed', error);
  }
}

function defaultUrl(): string {
  const { protocol, host } = globalThis.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}${STREAM_PATH}`;
}
