/**
 * One enrolled host's control socket, as the `ingest` bench's socket path drives it: opened with the host's
 * signed upgrade (protocol/src/control.ts), stored batches sent as `batch` messages, their `ack` / `nack`
 * handed back by batch id. The `ws` package without permessage-deflate: the bench measures the server's work
 * per batch, not the compression's (the Worker forwards no extension header to the object anyway).
 */
import { type ControlAck, type ControlNack, ControlServerMessage, KEEPALIVE_PONG } from '@pulsewire/protocol';
import WebSocket from 'ws';
import type { BenchHost } from './tenant.ts';

const OPEN_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;

export type ControlAnswer = ControlAck | ControlNack;

export interface ControlSocketHandlers {
  /** An `ack` or `nack`, with the moment it arrived (performance.now()). */
  answer(message: ControlAnswer, at: number): void;
  /** The socket closed while the bench still wanted it (code and reason as the server sent them). */
  closed(code: number, reason: string): void;
}

export class BenchControlSocket {
  readonly #ws: WebSocket;
  #closed: { code: number; reason: string } | undefined;
  #closing = false;
  /** Messages that were neither an answer, a cadence nor a pong (the bench reports them rather than guess). */
  unknownMessages = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
  }

  /**
   * Opens the host's control socket and resolves once the object has accepted it: its first message, the
   * `cadence`, has arrived. A refused upgrade rejects with the status and the error's body.
   */
  static open(
    host: BenchHost,
    headers: Record<string, string>,
    handlers: ControlSocketHandlers,
  ): Promise<BenchControlSocket> {
    const ws = new WebSocket(host.controlUrl, { headers, perMessageDeflate: false });
    const socket = new BenchControlSocket(ws);
    return new Promise((resolve, reject) => {
      let accepted = false;
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`the control socket of ${host.id} was not accepted within ${OPEN_TIMEOUT_MS} ms`));
      }, OPEN_TIMEOUT_MS);
      ws.on('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => {
          clearTimeout(timer);
          reject(new Error(`control upgrade refused: ${res.statusCode} ${text.slice(0, 300)}`));
        });
      });
      ws.on('message', (data, isBinary) => {
        const at = performance.now();
        if (isBinary) return void socket.unknownMessages++;
        const text = String(data);
        if (text === KEEPALIVE_PONG) return;
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        const parsed = ControlServerMessage.safeParse(json);
        if (!parsed.success) return void socket.unknownMessages++;
        if (parsed.data.type === 'cadence') {
          if (!accepted) {
            accepted = true;
            clearTimeout(timer);
            resolve(socket);
          }
          return;
        }
        handlers.answer(parsed.data, at);
      });
      ws.on('close', (code, reason) => {
        socket.#closed = { code, reason: String(reason) };
        if (!accepted) {
          clearTimeout(timer);
          reject(new Error(`the control socket of ${host.id} closed before its cadence (${code} ${String(reason)})`));
        } else if (!socket.#closing) handlers.closed(code, String(reason));
      });
      // A failed socket also closes (or the upgrade's answer rejects above); an 'error' without a listener would throw.
      ws.on('error', () => {});
    });
  }

  get open(): boolean {
    return this.#closed === undefined && this.#ws.readyState === WebSocket.OPEN;
  }

  /** Sends one prepared `batch` message (protocol/src/control.ts, `ControlBatch`). */
  send(message: string): void {
    this.#ws.send(message);
  }

  /** Closes with 1000 and waits for the server's close frame (then drops the connection if it does not come). */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#closed) return;
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#ws.terminate();
        resolve();
      }, CLOSE_TIMEOUT_MS);
      this.#ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.#ws.close(1000, 'bench done');
    await done;
  }
}
