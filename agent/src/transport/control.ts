import {
  ApiErrorBody,
  type Cadence,
  CONTROL_BATCH_PREFIX,
  CONTROL_CLOSE,
  CONTROL_PATH,
  ControlServerMessage,
  type HostKey,
  INGEST_PATH,
  KEEPALIVE_PING,
  KEEPALIVE_PONG,
  signIngestRequest,
} from '@pulsewire/protocol';
import { errorMessage, type Logger } from '../log.ts';
import { AGENT_VERSION } from '../version.ts';
import { Backoff, parseRetryAfter } from './backoff.ts';
import { openWebSocket, type WebSocketLink } from './websocket.ts';

/**
 * The control socket's connection state machine (in the spirit of Beszel's agent):
 *
 *   closed ──start──▶ connecting ──101──▶ open ──dropped / silent──▶ backoff ──delay over──▶ connecting
 *                        └──refused / network──▶ backoff
 *   any ──close()──▶ closed
 *
 * It runs beside the collection loop and never blocks it: the loop only reads `open` and is called back with
 * each cadence the tenant object sends. While the socket is down the push answer's cadence is the fallback.
 */
export type ControlState = 'connecting' | 'open' | 'backoff' | 'closed';

export interface ControlChannelOptions {
  /** The ingest URL from the config: the control socket is on the same origin. */
  ingestUrl: string;
  hostId: string;
  privateKey: HostKey;
  log: Logger;
  /** Called with every cadence the server sends (on accept, then on each change). */
  onCadence(cadence: Cadence): void;
  /** The clock signatures are stamped with (the agent's, as for pushes); the socket's own timers use real time. */
  now?: () => number;
  backoff?: Backoff;
  /**
   * How often a keep-alive goes out (default 45 s: under the ~100 s after which proxies drop a silent
   * connection, and 57,600 a month, about $0.0004 per host-month at 20 messages per request, if the
   * runtime's auto-answered pings are billed at all); a socket that has heard nothing for two is given up.
   */
  keepaliveMs?: number;
  /** A connection open this long resets the backoff (a socket replaced at once keeps backing off). */
  stableMs?: number;
  connectTimeoutMs?: number;
  /** Observes each transition (tests, `status`). */
  onState?(state: ControlState): void;
}

/** The control socket's URL: the ingest origin (and any path prefix before it), `CONTROL_PATH`. */
export function controlUrl(ingestUrl: string): URL {
  const url = new URL(ingestUrl);
  const base = url.pathname.endsWith(INGEST_PATH) ? url.pathname.slice(0, -INGEST_PATH.length) : '';
  return new URL(`${base}${CONTROL_PATH}`, url.origin);
}

export class ControlChannel {
  #state: ControlState = 'closed';
  readonly #o: ControlChannelOptions;
  readonly #url: URL;
  readonly #backoff: Backoff;
  readonly #now: () => number;
  #link?: WebSocketLink;
  #openedAt = 0;
  #heardAt = 0;
  #timer?: ReturnType<typeof setTimeout>;
  #keepalive?: ReturnType<typeof setInterval>;
  #everOpened = false;

  constructor(options: ControlChannelOptions) {
    this.#o = options;
    this.#url = controlUrl(options.ingestUrl);
    this.#backoff = options.backoff ?? new Backoff();
    this.#now = options.now ?? Date.now;
  }

  get state(): ControlState {
    return this.#state;
  }

  /** Whether the server can reach the agent now (then its cadence messages, not push answers, are followed). */
  get open(): boolean {
    return this.#state === 'open';
  }

  start(): void {
    if (this.#state !== 'closed') return;
    void this.#connect();
  }

  /** For shutdown: closes the socket cleanly and stops reconnecting. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#set('closed');
    this.#stopTimers();
    this.#link?.close(1000, 'agent stopping');
    this.#link = undefined;
  }

  #set(state: ControlState): void {
    this.#state = state;
    this.#o.onState?.(state);
  }

  #stopTimers(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#keepalive);
    this.#timer = undefined;
    this.#keepalive = undefined;
  }

  async #connect(): Promise<void> {
    this.#set('connecting');
    try {
      const headers = await signIngestRequest({
        privateKey: this.#o.privateKey,
        hostId: this.#o.hostId,
        batchId: `${CONTROL_BATCH_PREFIX}${crypto.randomUUID()}`,
        body: new Uint8Array(0),
        timestamp: this.#now(),
      });
      const slot: { link?: WebSocketLink } = {};
      const result = await openWebSocket(this.#url, {
        headers: { ...headers, 'user-agent': `pulsewire-agent/${AGENT_VERSION}` },
        timeoutMs: this.#o.connectTimeoutMs ?? 15_000,
        handlers: {
          message: (text) => this.#message(text),
          closed: (code, reason) => this.#closed(slot.link, code, reason),
        },
      });
      if (result.ok) slot.link = result.link;
      // Stopped meanwhile, or the connection ended within the handshake's own bytes (closed → backoff already).
      if (this.#state !== 'connecting') {
        slot.link?.close(1000, 'agent stopping');
        return;
      }
      if (!result.ok) return this.#refused(result.status, result.text, result.retryAfter);
      this.#opened(result.link);
    } catch (error) {
      if (this.#state === 'closed') return;
      this.#retry(`control socket: ${errorMessage(error)}`, this.#backoff.next());
    }
  }

  #opened(link: WebSocketLink): void {
    this.#link = link;
    this.#openedAt = Date.now();
    this.#heardAt = this.#openedAt;
    this.#set('open');
    this.#o.log[this.#everOpened ? 'debug' : 'info']('control socket open: live view requests arrive at once', {
      url: this.#url.href,
    });
    this.#everOpened = true;
    const every = this.#o.keepaliveMs ?? 45_000;
    this.#keepalive = setInterval(() => {
      if (Date.now() - this.#heardAt > 2 * every) {
        // Nothing, not even a pong, for two rounds: the path is dead without having said so (NAT, proxy).
        link.close(1001, 'no answer to keep-alives');
        this.#closed(link, 1006, 'no answer to keep-alives');
        return;
      }
      link.send(KEEPALIVE_PING);
    }, every);
    this.#keepalive.unref?.();
  }

  #message(text: string): void {
    if (this.#state === 'closed') return;
    this.#heardAt = Date.now();
    if (text === KEEPALIVE_PONG) return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = ControlServerMessage.safeParse(json);
    if (!parsed.success) {
      this.#o.log.once('control-unknown', 'warn', 'control socket: a message this agent does not know; ignored');
      return;
    }
    if (parsed.data.type === 'cadence') this.#o.onCadence(parsed.data.cadence);
  }

  #closed(link: WebSocketLink | undefined, code: number, reason: string): void {
    // A link that is not the current one: an old connection's late news, or one that ended before it opened.
    if (this.#state === 'closed' || (link && this.#link !== link)) return;
    if (!link && this.#state !== 'connecting') return;
    this.#link = undefined;
    clearInterval(this.#keepalive);
    this.#keepalive = undefined;
    if (link && Date.now() - this.#openedAt >= (this.#o.stableMs ?? 60_000)) this.#backoff.reset();
    // Revoked: the next push is answered 403 host_revoked and stops the agent; until then, do not insist.
    const delay = code === CONTROL_CLOSE.revoked ? this.#backoff.longest() : this.#backoff.next();
    this.#retry(`control socket closed (${code}${reason ? ` ${reason}` : ''})`, delay);
  }

  #refused(status: number, text: string, retryAfter: string | undefined): void {
    let code = `http_${status}`;
    let message = text.slice(0, 200);
    try {
      const parsed = ApiErrorBody.safeParse(JSON.parse(text));
      if (parsed.success) ({ code, message } = parsed.data.error);
    } catch {
      // not JSON: a proxy's page
    }
    // A signature, clock or revocation problem, or a server without the route (404): pushes say what is wrong
    // (and carry the cadence meanwhile), so retry rarely. Anything else (5xx, 429) backs off as pushes do.
    const rare = status === 401 || status === 403 || status === 404 || status === 426;
    const retryAfterMs = parseRetryAfter(retryAfter, this.#now());
    const delay = rare ? this.#backoff.longest() : this.#backoff.next(retryAfterMs);
    this.#retry(`control socket refused: ${status} ${code}: ${message}`, delay);
  }

  #retry(why: string, delayMs: number): void {
    this.#stopTimers();
    this.#set('backoff');
    // The first failure after an open socket is worth a line; a server that stays away is not, every time.
    this.#o.log[this.#backoff.attempts <= 1 ? 'info' : 'debug'](
      `${why}; reconnecting in ${Math.round(delayMs)} ms (pushes carry the cadence meanwhile)`,
      {
        attempt: this.#backoff.attempts,
      },
    );
    this.#timer = setTimeout(() => void this.#connect(), delayMs);
    this.#timer.unref?.();
  }
}
