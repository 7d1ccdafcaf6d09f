import type { ClientAck } from './stream.ts';

/**
 * A client acknowledges data frames at most once per this many ms: often enough to stay far inside
 * the server's bounds (`hello.flow`), rare enough to stay far below its message rate limit (20/s),
 * which acks count against.
 */
export const ACK_INTERVAL_MS = 250;

export interface AckPacerOptions {
  send: (ack: ClientAck) => void;
  now?: () => number;
}

/**
 * When a stream client sends `ack` for the data frames (`seq`) it received: at once when the last
 * ack is {@link ACK_INTERVAL_MS} old (checked on every frame, because background tabs throttle
 * timers), otherwise from a trailing timer that acknowledges what came since. Shared by the browser
 * and by script clients so both keep the same pace.
 */
export class AckPacer {
  readonly #send: (ack: ClientAck) => void;
  readonly #now: () => number;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #lastSeq: number | null = null;
  #ackedSeq: number | null = null;
  #lastAckAt = Number.NEGATIVE_INFINITY;

  constructor(options: AckPacerOptions) {
    this.#send = options.send;
    this.#now = options.now ?? Date.now;
  }

  /** A data frame with `seq` arrived. */
  received(seq: number): void {
    this.#lastSeq = seq;
    const sinceAck = this.#now() - this.#lastAckAt;
    if (sinceAck >= ACK_INTERVAL_MS) {
      this.#ack();
      return;
    }
    this.#timer ??= setTimeout(() => this.#ack(), ACK_INTERVAL_MS - sinceAck);
  }

  /** A new socket: what the old one received means nothing to the server behind the new one. */
  reset(): void {
    this.stop();
    this.#lastSeq = null;
    this.#ackedSeq = null;
    this.#lastAckAt = Number.NEGATIVE_INFINITY;
  }

  /** Drops the trailing ack (the socket is closing). */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #ack(): void {
    this.stop();
    if (this.#lastSeq === null || this.#lastSeq === this.#ackedSeq) return;
    this.#send({ type: 'ack', seq: this.#lastSeq });
    this.#ackedSeq = this.#lastSeq;
    this.#lastAckAt = this.#now();
  }
}
