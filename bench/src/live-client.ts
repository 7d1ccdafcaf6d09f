import { AckPacer, type ServerMessage, STREAM_PATH } from '@pulsewire/protocol';
import { WebSocket } from 'undici';

const OPEN_TIMEOUT_MS = 15_000;

/**
 * A dashboard socket as a script would open one: a `read` API key in the Authorization header, no
 * Origin. It acknowledges data frames like the browser client, and hands every frame to `onFrame`
 * with the moment it arrived.
 */
export class LiveClient {
  /** The object closes sockets that fall too far behind: ack at the browser's pace. */
  private readonly acks: AckPacer;
  closed: { code: number; reason: string } | null = null;
  /** Acks sent: each one is a message the tenant object is woken for. */
  acksSent = 0;

  private readonly ws: WebSocket;
  private constructor(
    ws: WebSocket,
    onFrame: (message: ServerMessage, receivedAt: number) => void,
    ackDelayMs: number | undefined,
  ) {
    this.ws = ws;
    this.acks = new AckPacer({
      ...(ackDelayMs === undefined ? {} : { delayMs: ackDelayMs }),
      send: (ack) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        this.acksSent++;
        this.send(ack);
      },
    });
    ws.addEventListener('message', (event) => {
      const receivedAt = performance.timeOrigin + performance.now();
      const text = String(event.data);
      const message = JSON.parse(text) as ServerMessage;
      if ('seq' in message) this.acks.received(message.seq, text.length);
      onFrame(message, receivedAt);
    });
    ws.addEventListener('close', (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.acks.stop();
    });
  }

  static open(
    baseUrl: string,
    readKey: string,
    onFrame: (message: ServerMessage, receivedAt: number) => void,
    /** The ack delay; the protocol's `ACK_DELAY_MS` unless given. */
    ackDelayMs?: number,
  ): Promise<LiveClient> {
    const url = new URL(STREAM_PATH, baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${readKey}` } });
    const client = new LiveClient(ws, onFrame, ackDelayMs);
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
    this.acks.stop();
    this.ws.close(1000, 'bench done');
  }
}
