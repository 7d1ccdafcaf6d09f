import { GSSENC_REQUEST, SSL_REQUEST } from './pg-wire.ts';

const TERMINATE = 0x58; // 'X'

/**
 * Follows the message framing of what a Postgres client sends and says when it sent Terminate
 * ('X'), the last message of a session. The relay needs this because workerd never closes the
 * Worker's WebSocket once a request is over: without it every database connection a request
 * opened stayed open for the life of the runtime.
 *
 * Frontend framing: untyped messages first (int32 length incl. itself, int32 code: SSLRequest,
 * GSSENCRequest, then StartupMessage or CancelRequest), then typed ones (1 byte type + int32 length).
 */
export class TerminateWatcher {
  private untyped = true;
  /** Bytes of the current message body still to skip. */
  private skip = 0;
  /** A partial header carried over to the next chunk. */
  private header: number[] = [];
  terminated = false;

  /** Feeds client bytes in order; returns true once Terminate has been seen. */
  push(chunk: Uint8Array): boolean {
    let i = 0;
    while (i < chunk.length && !this.terminated) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const headerSize = this.untyped ? 8 : 5;
      while (this.header.length < headerSize && i < chunk.length) this.header.push(chunk[i++] as number);
      if (this.header.length < headerSize) break;
      const h = this.header;
      this.header = [];
      if (this.untyped) {
        const length = int32(h, 0);
        const code = int32(h, 4);
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) this.untyped = false;
        this.skip = Math.max(0, length - 8);
      } else {
        if (h[0] === TERMINATE) this.terminated = true;
        this.skip = Math.max(0, int32(h, 1) - 4);
      }
    }
    return this.terminated;
  }
}

function int32(bytes: number[], at: number): number {
  return (
    (((bytes[at] as number) << 24) |
      ((bytes[at + 1] as number) << 16) |
      ((bytes[at + 2] as number) << 8) |
      (bytes[at + 3] as number)) >>>
    0
  );
}
