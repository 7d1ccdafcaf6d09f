import type { ClientAck } from './stream.ts';

/**
 * A client acknowledges data frames at most once per this many ms, however fast they come: far below the
 * server's message rate limit (20/s), which acks count against.
 */
export const ACK_INTERVAL_MS = 250;
/**
 * …and at the latest this long after an unacknowledged frame arrived. Every ack is a message the tenant object
 * is woken for (measured under wrangler dev: ~280 µs of workerd CPU per ack against ~75 µs per frame sent), so
 * a dashboard following a host at the 1 s live cadence acks every tenth frame. The server's bounds do not depend
 * on it: a socket is closed past 1000 frames or 1 MiB unacknowledged, and the tenant-wide bound counts only what
 * a socket holds beyond {@link ACK_AFTER_BYTES}, by which a reader acks whatever the delay.
 */
export const ACK_DELAY_MS = 10_000;
/**
 * Each client waits a delay drawn once per socket between (1 − this) × {@link ACK_DELAY_MS} and the whole of
 * it. Sockets that follow the same host get its frames at the same moment; with one fixed delay their acks
 * would reach the object in one burst of every socket at once, queued ahead of the next batch's frames.
 */
export const ACK_DELAY_SPREAD = 0.5;
/**
 * Frames or bytes unacknowledged past which the client acks as soon as {@link ACK_INTERVAL_MS} allows: far
 * inside the server's per-socket bounds (`hello.flow`: 1000 frames, 1 MiB), so a busy socket never nears them.
 */
export const ACK_AFTER_FRAMES = 32;
export const ACK_AFTER_BYTES = 64 * 1024;

export interface AckPacerOptions {
  send: (ack: ClientAck) => void;
  now?: () => number;
  /** {@link ACK_DELAY_MS} unless given (the fan-out bench compares delays on one stack). */
  delayMs?: number;
  /** Draws this socket's share of the delay ({@link ACK_DELAY_SPREAD}); `Math.random` unless given. */
  random?: () => number;
}

/** The delay one socket waits: `delayMs` less a random part of {@link ACK_DELAY_SPREAD} of it. */
export function ackDelayOf(delayMs: number, random: () => number): number {
  return Math.round(delayMs * (1 - ACK_DELAY_SPREAD * random()));
}

/**
 * When a stream client sends `ack` for the data frames (`seq`) it received: once the oldest frame not yet
 * acknowledged is this socket's delay old (5–10 s: {@link ACK_DELAY_MS}, {@link ACK_DELAY_SPREAD}), or sooner
 * when many frames or bytes wait and the last ack is {@link ACK_INTERVAL_MS} old. By a timer, and checked on
 * every frame too, because background tabs throttle timers. Shared by the browser and by script clients so both
 * keep the same pace.
 */
export class AckPacer {
  readonly #send: (ack: ClientAck) => void;
  readonly #now: () => number;
  readonly #baseDelayMs: number;
  readonly #random: () => number;
  #delayMs: number;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #timerAt = Number.POSITIVE_INFINITY;
  #lastSeq: number | null = null;
  #ackedSeq: number | null = null;
  #lastAckAt = Number.NEGATIVE_INFINITY;
  #pendingFrames = 0;
  #pendingBytes = 0;
  /** When the oldest frame not yet acknowledged arrived. */
  #pendingSince = 0;

  constructor(options: AckPacerOptions) {
    this.#send = options.send;
    this.#now = options.now ?? Date.now;
    this.#baseDelayMs = options.delayMs ?? ACK_DELAY_MS;
    this.#random = options.random ?? Math.random;
    this.#delayMs = ackDelayOf(this.#baseDelayMs, this.#random);
  }

  /** A data frame with `seq` arrived (`bytes`: its size, when the caller knows it). */
  received(seq: number, bytes = 0): void {
    const now = this.#now();
    // The delay runs from the oldest frame not yet acknowledged, not from the last ack: sockets fed the same
    // frames after a quiet spell (a new socket's first frame, a host that resumes) do not all ack at once.
    if (this.#pendingFrames === 0) this.#pendingSince = now;
    this.#lastSeq = seq;
    this.#pendingFrames++;
    this.#pendingBytes += bytes;
    const sinceAck = now - this.#lastAckAt;
    const busy = this.#pendingFrames >= ACK_AFTER_FRAMES || this.#pendingBytes >= ACK_AFTER_BYTES;
    // Overdue (a throttled tab's timer did not fire), or many frames wait and the interval allows.
    if (now - this.#pendingSince >= this.#delayMs || (busy && sinceAck >= ACK_INTERVAL_MS)) {
      this.#ack();
      return;
    }
    const due = busy ? this.#lastAckAt + ACK_INTERVAL_MS : this.#pendingSince + this.#delayMs;
    if (due >= this.#timerAt) return;
    this.stop();
    this.#timerAt = due;
    this.#timer = setTimeout(() => this.#ack(), due - now);
  }

  /** A new socket: what the old one received means nothing to the server behind the new one. */
  reset(): void {
    this.stop();
    this.#delayMs = ackDelayOf(this.#baseDelayMs, this.#random);
    this.#lastSeq = null;
    this.#ackedSeq = null;
    this.#lastAckAt = Number.NEGATIVE_INFINITY;
    this.#pendingFrames = 0;
    this.#pendingBytes = 0;
  }

  /** Drops the trailing ack (the socket is closing). */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #ack(): void {
    this.stop();
    if (this.#lastSeq === null || this.#lastSeq === this.#ackedSeq) return;
    this.#send({ type: 'ack', seq: this.#lastSeq });
    this.#ackedSeq = this.#lastSeq;
    this.#lastAckAt = this.#now();
    this.#pendingFrames = 0;
    this.#pendingBytes = 0;
  }
}
