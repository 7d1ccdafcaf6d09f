/** Postgres protocol codes of the untyped messages a client may send before (or instead of) its startup message. */
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

const UNTYPED_KINDS = new Map<number, 'ssl' | 'gssenc' | 'cancel'>([
  [SSL_REQUEST, 'ssl'],
  [GSSENC_REQUEST, 'gssenc'],
  [CANCEL_REQUEST, 'cancel'],
]);

export type FrontendMessage =
  | { kind: 'ssl' | 'gssenc' | 'cancel' | 'startup'; bytes: Buffer }
  | { kind: 'typed'; type: string; bytes: Buffer };

export class ProtocolError extends Error {}

/**
 * Cuts what a Postgres client sends into whole messages. Untyped messages come first (int32 length
 * including itself, int32 code: SSLRequest, GSSENCRequest, then StartupMessage or CancelRequest),
 * typed ones after the startup message (1 byte type + int32 length).
 */
export class FrontendSplitter {
  private buffered: Buffer = Buffer.alloc(0);
  private untyped = true;

  push(chunk: Buffer): FrontendMessage[] {
    const buffered = this.buffered.length > 0 ? Buffer.concat([this.buffered, chunk]) : chunk;
    const messages: FrontendMessage[] = [];
    let at = 0;
    for (;;) {
      const available = buffered.length - at;
      if (available < (this.untyped ? 8 : 5)) break;
      const length = this.untyped ? buffered.readUInt32BE(at) : 1 + buffered.readUInt32BE(at + 1);
      if (length < (this.untyped ? 8 : 5)) throw new ProtocolError(`invalid message length ${length}`);
      if (available < length) break;
      const bytes = buffered.subarray(at, at + length);
      at += length;
      if (this.untyped) {
        const kind = UNTYPED_KINDS.get(bytes.readUInt32BE(4)) ?? 'startup';
        if (kind === 'startup') this.untyped = false;
        messages.push({ kind, bytes });
      } else {
        messages.push({ kind: 'typed', type: String.fromCharCode(bytes[0] as number), bytes });
      }
    }
    this.buffered = buffered.subarray(at);
    return messages;
  }
}

/**
 * Follows what the server sends and says whether it last stopped at ReadyForQuery ('Z') with the
 * session idle ('I'): the point where a connection's exchange is over and nothing it started (an
 * unnamed statement or portal, a transaction, an error awaiting Sync) is left in the session.
 */
export class ReadyWatcher {
  /** Header bytes of the current message seen so far. */
  private header: number[] = [];
  /** Body bytes of the current message still to come. */
  private remaining = 0;
  private type = 0;
  /** Transaction status of the last ReadyForQuery, if it was the last complete message. */
  private status: string | undefined = 'I';

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        if (this.type === READY_FOR_QUERY) this.status = String.fromCharCode(chunk[i] as number);
        const n = Math.min(this.remaining, chunk.length - i);
        this.remaining -= n;
        i += n;
        continue;
      }
      if (this.header.length === 0) this.status = undefined;
      this.header.push(chunk[i++] as number);
      if (this.header.length < 5) continue;
      const [type, b1, b2, b3, b4] = this.header as [number, number, number, number, number];
      this.header = [];
      this.type = type;
      this.remaining = Math.max(0, (((b1 << 24) | (b2 << 16) | (b3 << 8) | b4) >>> 0) - 4);
    }
  }

  /** True when the server's output so far ends with ReadyForQuery in the idle state. */
  get idle(): boolean {
    return this.remaining === 0 && this.header.length === 0 && this.status === 'I';
  }
}

const READY_FOR_QUERY = 0x5a; // 'Z'

export const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);

/** A simple-protocol Query message. */
export function queryMessage(sql: string): Buffer {
  const text = Buffer.from(`${sql}\0`);
  const header = Buffer.alloc(5);
  header[0] = 0x51; // 'Q'
  header.writeUInt32BE(text.length + 4, 1);
  return Buffer.concat([header, text]);
}
