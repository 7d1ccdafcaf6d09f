import {
  ApiErrorBody,
  type Cadence,
  CONTROL_BATCH_ANSWER_TIMEOUT_MS,
  CONTROL_BATCH_PREFIX,
  CONTROL_CLOSE,
  CONTROL_MAX_BATCH_BYTES,
  CONTROL_MAX_BATCHES_IN_FLIGHT,
  CONTROL_PATH,
  type ControlAck,
  type ControlBatch,
  type ControlNack,
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
 *
 * While it is open it also carries stored batches (`sendBatch`): signed like a push over the batch's JSON bytes,
 * several in flight (up to CONTROL_MAX_BATCHES_IN_FLIGHT), each answered `ack` or `nack`. A batch that gets
 * neither (the socket closed, or no answer within CONTROL_BATCH_ANSWER_TIMEOUT_MS) is answered `fallback`, and
 * the agent sends it over HTTP; the server stores a batch once whichever way it came. A socket on which an answer
 * timed out is closed and opened again: the path, or the object behind it, is not answering.
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
  /** How long a batch waits for its answer before it is handed back for HTTP (tests shorten it). */
  batchAnswerTimeoutMs?: number;
}

/** A stored batch as the socket carries it: its JSON bytes, exactly what is signed. */
export interface SocketBatch {
  seq: number;
  batchId: string;
  json: Uint8Array<ArrayBuffer>;
}

/**
 * How a batch sent on the socket ended: stored (`ack`), refused with what HTTP would have answered (`nack`), or
 * not answered here, so it must go over HTTP (`fallback`: not open, over the size, closed or timed out).
 */
export type BatchAnswer =
  | { kind: 'ack'; ack: ControlAck }
  | { kind: 'nack'; nack: ControlNack }
  | { kind: 'fallback'; why: string };

/**
 * Bytes the socket may hold unsent before it takes no more batches: a slow uplink drains at its own pace instead
 * of CONTROL_MAX_BATCHES_IN_FLIGHT bodies piling up in the agent's memory.
 */
const MAX_BUFFERED_BYTES = 1024 * 1024;

interface Waiting {
  resolve(answer: BatchAnswer): void;
  timer?: ReturnType<typeof setTimeout>;
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
  /** Batches sent on the current connection and not answered yet, by batch id. */
  readonly #waiting = new Map<string, Waiting>();
  /** The server closed the socket as "unexpected" over a batch: it predates them; HTTP only from now on. */
  #batchesRefused = false;

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

  /** Whether a stored batch may go on the socket now: open, under the in-flight cap, its send buffer not backed up. */
  get acceptsBatches(): boolean {
    return (
      this.#state === 'open' &&
      !this.#batchesRefused &&
      this.#link !== undefined &&
      this.#waiting.size < CONTROL_MAX_BATCHES_IN_FLIGHT &&
      this.#link.buffered < MAX_BUFFERED_BYTES
    );
  }

  /**
   * Open and taking batches, but at the in-flight cap or with its send buffer backed up: the next batch waits for
   * an answer (or a timeout) instead of going over HTTP.
   */
  get full(): boolean {
    return this.#state === 'open' && !this.#batchesRefused && this.#link !== undefined && !this.acceptsBatches;
  }

  /** Batches sent and not answered yet. */
  get batchesInFlight(): number {
    return this.#waiting.size;
  }

  /**
   * Sends one stored batch, signed as a push is but over its JSON bytes (uncompressed), and resolves with its
   * answer. Never rejects and never waits on the network: a batch the socket cannot take now is answered
   * `fallback` at once.
   */
  async sendBatch(batch: SocketBatch): Promise<BatchAnswer> {
    if (batch.json.byteLength > CONTROL_MAX_BATCH_BYTES) return { kind: 'fallback', why: 'over the socket size' };
    const link = this.#link;
    if (!this.acceptsBatches || !link) return { kind: 'fallback', why: 'control socket not taking batches' };
    if (this.#waiting.has(batch.batchId)) return { kind: 'fallback', why: 'already in flight' };
    // The slot is taken before signing, so batches signed at the same time stay under the cap.
    const answer = new Promise<BatchAnswer>((resolve) => this.#waiting.set(batch.batchId, { resolve }));
    let message: string;
    try {
      const headers = await signIngestRequest({
        privateKey: this.#o.privateKey,
        hostId: this.#o.hostId,
        batchId: batch.batchId,
        seq: batch.seq,
        body: batch.json,
        timestamp: this.#now(),
      });
      const body = Buffer.from(batch.json.buffer, batch.json.byteOffset, batch.json.byteLength).toString('utf8');
      message = JSON.stringify({ type: 'batch', headers, body } as ControlBatch);
    } catch (error) {
      this.#answer(batch.batchId, { kind: 'fallback', why: `cannot sign: ${errorMessage(error)}` });
      return answer;
    }
    const waiting = this.#waiting.get(batch.batchId);
    // Closed while signing: already answered `fallback`.
    if (!waiting || this.#link !== link) return answer;
    waiting.timer = setTimeout(
      () => this.#unanswered(link),
      this.#o.batchAnswerTimeoutMs ?? CONTROL_BATCH_ANSWER_TIMEOUT_MS,
    );
    waiting.timer.unref?.();
    link.send(message);
    return answer;
  }

  #answer(batchId: string, answer: BatchAnswer): void {
    const waiting = this.#waiting.get(batchId);
    if (!waiting) return;
    this.#waiting.delete(batchId);
    clearTimeout(waiting.timer);
    waiting.resolve(answer);
  }

  /** Every batch still waiting goes back for HTTP (the connection ended, or stopped answering). */
  #fallBackAll(why: string): void {
    for (const batchId of [...this.#waiting.keys()]) this.#answer(batchId, { kind: 'fallback', why });
  }

  /** A batch had no answer in time: this connection is not answering, so it is given up and opened again. */
  #unanswered(link: WebSocketLink): void {
    if (this.#link !== link) return;
    link.close(1001, 'batch answers timed out');
    this.#closed(link, 1006, 'no answer to a batch in time');
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
    this.#fallBackAll('agent stopping');
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
    const message = parsed.data;
    if (message.type === 'cadence') {
      this.#o.onCadence(message.cadence);
      return;
    }
    // An answer for a batch no longer waiting here (it timed out, and went over HTTP): nothing to do.
    if (!this.#waiting.has(message.batch_id)) {
      this.#o.log.debug('control socket: an answer for a batch not waiting on it', { batchId: message.batch_id });
      return;
    }
    this.#answer(
      message.batch_id,
      message.type === 'ack' ? { kind: 'ack', ack: message } : { kind: 'nack', nack: message },
    );
  }

  #closed(link: WebSocketLink | undefined, code: number, reason: string): void {
    // A link that is not the current one: an old connection's late news, or one that ended before it opened.
    if (this.#state === 'closed' || (link && this.#link !== link)) return;
    if (!link && this.#state !== 'connecting') return;
    this.#link = undefined;
    clearInterval(this.#keepalive);
    this.#keepalive = undefined;
    if (code === CONTROL_CLOSE.unexpected && this.#waiting.size > 0 && !this.#batchesRefused) {
      // A server from before batches on the socket: it keeps serving cadences, batches stay on HTTP.
      this.#batchesRefused = true;
      this.#o.log.info('control socket: the server does not take batches on it; they go over HTTP');
    }
    this.#fallBackAll(`control socket closed (${code})`);
    if (link && Date.now() - this.#openedAt >= (this.#o.stableMs ?? 60_000)) this.#backoff.reset();
    // The object asks for a new connection (4012): at once, not after the backoff a failing server earns.
    if (code === CONTROL_CLOSE.reconnect) this.#backoff.reset();
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
