import type { Socket } from 'node:net';
import { nodeHttp, nodeHttps } from '../builtins.ts';
import { HttpError } from './http.ts';

/**
 * A minimal WebSocket client (RFC 6455) over `node:http`'s upgrade, for the control socket: small text messages
 * in (cadences, batch answers), stored batches of up to CONTROL_MAX_BATCH_BYTES out, pings, close. Not the runtime's global `WebSocket`: in Node it is undici's, and using it
 * loads undici's fetch stack and WebAssembly HTTP parser, measured at +22 MB resident for one idle socket
 * (43 → 65 MB), a third of the agent's budget, while `node:http` is loaded for ingest anyway (+0). Bun's global
 * WebSocket is cheap (+3 MB) but Bun's `node:http` is already resident for ingest too, so one path serves both
 * runtimes at no extra memory. Frames and the handshake are checked; anything unexpected ends the connection.
 */

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** A violation of the framing rules by the peer: the connection is failed with `code` (RFC 6455, 7.4.1). */
export class FrameError extends Error {
  readonly code: number;
  constructor(message: string, code = 1002) {
    super(message);
    this.code = code;
  }
}

/** Allocation for a frame over 4 KiB: see encodeFrame. */
const MMAPPED_FRAME_BYTES = 64 * 1024;

/**
 * One frame's bytes; a client masks what it sends (`mask`), a server does not. Text is written straight into the
 * frame and masked in place: a stored batch on the control socket is up to CONTROL_MAX_BATCH_BYTES (and more once
 * JSON-escaped), so one buffer per frame, not three.
 */
export function encodeFrame(opcode: number, payload: Uint8Array | string, mask: boolean): Buffer {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
  const lengthBytes = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const start = 2 + lengthBytes + (mask ? 4 : 0);
  const size = start + length;
  // A batch-sized frame is allocated at or over glibc's mmap threshold (the agent runs with 32 KiB, node-tuning.ts)
  // so its memory goes back when freed: a backlog of 1,000 batches sent in 5 KiB frames carved from the heap left
  // ~2.6 MiB more resident. Small frames (keep-alives, pongs) come from Node's buffer pool as before.
  const frame =
    size > 4096 ? Buffer.allocUnsafe(Math.max(size, MMAPPED_FRAME_BYTES)).subarray(0, size) : Buffer.allocUnsafe(size);
  frame[0] = 0x80 | opcode;
  frame[1] = (mask ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) frame.writeUInt16BE(length, 2);
  if (lengthBytes === 8) frame.writeBigUInt64BE(BigInt(length), 2);
  if (typeof payload === 'string') frame.write(payload, start, 'utf8');
  else frame.set(payload, start);
  if (mask) {
    const key = crypto.getRandomValues(new Uint8Array(4));
    frame.set(key, start - 4);
    for (let i = 0; i < length; i++) frame[start + i] = (frame[start + i] as number) ^ (key[i & 3] as number);
  }
  return frame;
}

/** Cuts a byte stream into frames. `masked`: what the peer must do (a server reads masked frames, a client not). */
export class FrameReader {
  readonly #maxBytes: number;
  readonly #masked: boolean;
  #buffer = Buffer.alloc(0);

  constructor(options: { maxBytes: number; masked: boolean }) {
    this.#maxBytes = options.maxBytes;
    this.#masked = options.masked;
  }

  push(chunk: Uint8Array): Frame[] {
    this.#buffer = this.#buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buffer, chunk]);
    const frames: Frame[] = [];
    for (;;) {
      const buffer = this.#buffer;
      if (buffer.length < 2) break;
      const first = buffer[0] as number;
      const second = buffer[1] as number;
      if (first & 0x70) throw new FrameError('reserved bits set (no extension was negotiated)');
      const masked = (second & 0x80) !== 0;
      if (masked !== this.#masked) throw new FrameError(masked ? 'a server must not mask' : 'a client must mask');
      let length = second & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) break;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) break;
        const big = buffer.readBigUInt64BE(2);
        if (big > BigInt(this.#maxBytes)) throw new FrameError('message too big', 1009);
        length = Number(big);
        offset = 10;
      }
      if (length > this.#maxBytes) throw new FrameError('message too big', 1009);
      const keyAt = offset;
      if (masked) offset += 4;
      if (buffer.length < offset + length) break;
      const payload = Buffer.from(buffer.subarray(offset, offset + length));
      if (masked)
        for (let i = 0; i < payload.length; i++)
          payload[i] = (payload[i] as number) ^ (buffer[keyAt + (i & 3)] as number);
      frames.push({ fin: (first & 0x80) !== 0, opcode: first & 0x0f, payload });
      this.#buffer = buffer.subarray(offset + length);
    }
    return frames;
  }
}

/** Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)). WebCrypto, so nothing else is loaded. */
export async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(key + GUID));
  return Buffer.from(digest).toString('base64');
}

/** Reads a close frame's payload: code (1005, "none", when empty) and reason. */
export function readClose(payload: Buffer): { code: number; reason: string } {
  if (payload.length < 2) return { code: 1005, reason: '' };
  return { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') };
}

export function closePayload(code: number, reason: string): Buffer {
  const text = Buffer.from(reason.slice(0, 120), 'utf8');
  const payload = Buffer.alloc(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return payload;
}

export interface LinkHandlers {
  message(text: string): void;
  /** Once, however the connection ended (1006: without a close frame). */
  closed(code: number, reason: string): void;
}

/** An open WebSocket connection. */
export interface WebSocketLink {
  send(text: string): void;
  /** Bytes written and not yet handed to the kernel (a slow or stalled path). */
  readonly buffered: number;
  /** Starts the closing handshake; the connection is destroyed if the peer does not finish it within a second. */
  close(code: number, reason: string): void;
}

export type UpgradeResult =
  | { ok: true; link: WebSocketLink }
  | { ok: false; status: number; text: string; retryAfter: string | undefined };

export interface OpenOptions {
  headers: Record<string, string>;
  /** Time allowed for connecting and the handshake. */
  timeoutMs: number;
  handlers: LinkHandlers;
  /** Largest message accepted (what the server sends is tiny: cadences, acks, nacks). */
  maxMessageBytes?: number;
}

/**
 * Opens a WebSocket to an http(s) URL. Resolves with the link once upgraded, or with the server's answer when
 * it refused the upgrade (status and body: the Worker's JSON error). Rejects (HttpError with a `code`) when the
 * network failed or the handshake was wrong.
 */
export async function openWebSocket(url: URL, options: OpenOptions): Promise<UpgradeResult> {
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64');
  const expected = await acceptKey(key);
  const client = url.protocol === 'https:' ? nodeHttps() : nodeHttp();
  return new Promise<UpgradeResult>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const request = client.request(url, {
      method: 'GET',
      // A connection of its own: the upgrade takes the socket out of any keep-alive pool.
      agent: false,
      headers: {
        ...options.headers,
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': key,
      },
    });
    const timer = setTimeout(() => {
      request.destroy();
      settle(() =>
        reject(new HttpError(`no WebSocket handshake from ${url.origin} within ${options.timeoutMs} ms`, 'ETIMEDOUT')),
      );
    }, options.timeoutMs);
    request.once('error', (error: NodeJS.ErrnoException) =>
      settle(() => reject(new HttpError(error.message, error.code ?? 'network_error'))),
    );
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes <= 64 * 1024) chunks.push(chunk);
      });
      response.once('error', () => undefined);
      response.once('end', () =>
        settle(() =>
          resolve({
            ok: false,
            status: response.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            retryAfter: [response.headers['retry-after']].flat()[0],
          }),
        ),
      );
    });
    request.once('upgrade', (response, socket: Socket, head: Buffer) => {
      if (response.headers['sec-websocket-accept'] !== expected) {
        socket.destroy();
        settle(() => reject(new HttpError('the server answered the upgrade with a wrong accept key', 'EPROTO')));
        return;
      }
      settle(() => resolve({ ok: true, link: attach(socket, head, options) }));
    });
    request.end();
  });
}

function attach(socket: Socket, head: Buffer, options: OpenOptions): WebSocketLink {
  const reader = new FrameReader({ maxBytes: options.maxMessageBytes ?? 64 * 1024, masked: false });
  let fragments: Buffer[] | undefined;
  let closeSent = false;
  let ended = false;
  let killer: ReturnType<typeof setTimeout> | undefined;
  const end = (code: number, reason: string) => {
    if (ended) return;
    ended = true;
    clearTimeout(killer);
    socket.destroy();
    options.handlers.closed(code, reason);
  };
  const write = (opcode: number, payload: Uint8Array | string) => {
    if (!socket.destroyed && socket.writable) socket.write(encodeFrame(opcode, payload, true));
  };
  const close = (code: number, reason: string) => {
    if (ended) return;
    if (!closeSent) {
      closeSent = true;
      write(OPCODE.close, closePayload(code, reason));
    }
    killer ??= setTimeout(() => end(code, reason), 1000);
    killer.unref?.();
  };
  const onFrame = (frame: Frame) => {
    switch (frame.opcode) {
      case OPCODE.ping:
        write(OPCODE.pong, frame.payload);
        return;
      case OPCODE.pong:
        return;
      case OPCODE.close: {
        const { code, reason } = readClose(frame.payload);
        if (!closeSent) {
          closeSent = true;
          write(OPCODE.close, closePayload(code === 1005 ? 1000 : code, ''));
        }
        socket.end();
        end(code, reason);
        return;
      }
      case OPCODE.text:
      case OPCODE.continuation: {
        if (frame.opcode === OPCODE.text && fragments) throw new FrameError('a new message inside a fragmented one');
        if (frame.opcode === OPCODE.continuation && !fragments) throw new FrameError('a continuation of nothing');
        const parts = [...(fragments ?? []), frame.payload];
        if (!frame.fin) {
          fragments = parts;
          return;
        }
        fragments = undefined;
        options.handlers.message(Buffer.concat(parts).toString('utf8'));
        return;
      }
      default:
        throw new FrameError(`opcode ${frame.opcode} is not used on this socket`, 1003);
    }
  };
  const onData = (chunk: Buffer) => {
    try {
      for (const frame of reader.push(chunk)) {
        onFrame(frame);
        if (ended) return;
      }
    } catch (error) {
      const failure = error instanceof FrameError ? error : new FrameError(String(error), 1011);
      close(failure.code, failure.message);
      end(failure.code, failure.message);
    }
  };
  socket.setNoDelay(true);
  socket.on('data', onData);
  socket.once('close', () => end(1006, 'connection lost'));
  socket.on('error', () => undefined); // 'close' follows
  if (head.length > 0) queueMicrotask(() => onData(head));
  return {
    send: (text) => write(OPCODE.text, text),
    get buffered() {
      return socket.writableLength ?? 0;
    },
    close,
  };
}
