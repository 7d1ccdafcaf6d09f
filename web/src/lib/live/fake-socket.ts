import type { SocketLike } from './stream-client.svelte.ts';

/**
 * A scripted WebSocket for unit tests: records what the client sends and lets the test open it,
 * deliver frames and close it as a server would. `send` on a socket that is not open throws, as a
 * real WebSocket does.
 */
export class FakeSocket implements SocketLike {
  readyState = 0;
  readonly sent: string[] = [];
  closedByClient: { code: number | undefined; reason: string | undefined } | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  readonly url: string;

  constructor(url: string) {
    this.url = url;
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error(`send on a socket in state ${this.readyState}`);
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
    this.readyState = 3;
  }

  /** The server accepted the connection. */
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  /** A frame from the server (objects are JSON-encoded). */
  receive(data: unknown): void {
    this.onmessage?.({ data: typeof data === 'string' ? data : JSON.stringify(data) });
  }

  /** The server (or the network) closed the connection. */
  serverClose(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code, reason });
  }

  /** Sent frames parsed, without keep-alive pings and acks. */
  frames(): unknown[] {
    return this.#parsed().filter((f) => f.type !== 'ack');
  }

  /** The `seq` of every `ack` sent, in order. */
  acks(): number[] {
    return this.#parsed().flatMap((f) => (f.type === 'ack' ? [f.seq as number] : []));
  }

  #parsed(): Record<string, unknown>[] {
    return this.sent.filter((s) => s !== '{"type":"ping"}').map((s) => JSON.parse(s));
  }
}

/** A socket factory that keeps every socket it made. */
export function fakeSockets(): { sockets: FakeSocket[]; create: (url: string) => FakeSocket; last: () => FakeSocket } {
  const sockets: FakeSocket[] = [];
  return {
    sockets,
    create: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    last: () => {
      const s = sockets.at(-1);
      if (!s) throw new Error('no socket was created');
      return s;
    },
  };
}
