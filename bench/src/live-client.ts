import { type ServerMessage, STREAM_PATH } from '@pulsewire/protocol';
import { WebSocket } from 'undici';

/** How often a client acknowledges what it received (the object closes sockets that fall too far behind). */
const ACK_EVERY_MS = 250;
const OPEN_TIMEOUT_MS = 15_000;

/**
 * A dashboard socket as a script would open one: a `read` API key in the Authorization header, no
 * Origin. It acknowledges data frames like the browser client, and hands every frame to `onFrame`
 * with the moment it arrived.
 */
export class LiveClient {
  private lastAckAt = 0;
  private newestSeq = 0;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  closed: { code: number; reason: string } | null = null;

  private readonly ws: WebSocket;
  private constructor(ws: WebSocket, onFrame: (message: ServerMessage, receivedAt: number) => void) {
    this.ws = ws;
    ws.addEventListener('message', (event) => {
      const receivedAt = performance.timeOrigin + performance.now();
      const message = JSON.parse(String(event.data)) as ServerMessage;
      if ('seq' in message && typeof message.seq === 'number') this.noteSeq(message.seq, receivedAt);
      onFrame(message, receivedAt);
    });
    ws.addEventListener('close', (event) => {
      this.closed = { code: event.code, reason: event.reason };
      clearTimeout(this.ackTimer);
    });
  }

  static open(
    baseUrl: string,
    readKey: string,
    onFrame: (message: ServerMessage, receivedAt: number) => void,
  ): Promise<LiveClient> {
    const url = new URL(STREAM_PATH, baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${readKey}` } });
    const client = new LiveClient(ws, onFrame);
    return new Promise((resolve, reject) => {
      // A handshake that never completes must not hang the run: give up (and close) after OPEN_TIMEOUT_MS.
      const timer = setTimeout(() => {
        ws.close();
        reject(new Error(`the stream socket did not open within ${OPEN_TIMEOUT_MS} ms`));
      }, OPEN_TIMEOUT_MS);
      ws.addEventListener(
        'open',
        () => {
          clearTimeout(timer);
          resolve(client);
        },
        { once: true },
      );
      ws.addEventListener(
        'error',
        () => {
          clearTimeout(timer);
          reject(new Error('the stream socket failed to open'));
        },
        { once: true },
      );
    });
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  close(): void {
    clearTimeout(this.ackTimer);
    this.ws.close(1000, 'bench done');
  }

  private noteSeq(seq: number, now: number): void {
    this.newestSeq = Math.max(this.newestSeq, seq);
    if (now - this.lastAckAt >= ACK_EVERY_MS) {
      this.ack(now);
      return;
    }
    this.ackTimer ??= setTimeout(() => this.ack(Date.now()), ACK_EVERY_MS);
  }

  private ack(now: number): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.lastAckAt = now;
    if (this.ws.readyState === WebSocket.OPEN) this.send({ type: 'ack', seq: this.newestSeq });
  }
}
