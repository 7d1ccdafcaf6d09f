import type http from 'node:http';
import { nodeHttp, nodeHttps } from '../builtins.ts';

/**
 * One HTTP exchange with Node's built-in client, the whole answer read as text. The agent used undici,
 * which is ~950 KiB of the single-file bundle and instantiates its WebAssembly HTTP parser on load: about
 * 11 MB of resident memory for a client that sends one small POST every 30 s. node:http is in every
 * runtime the agent ships on (Node, and the compiled executable).
 */
export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface HttpExchange {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Keep-alive pool to reuse; none: a connection for this exchange alone. */
  agent?: http.Agent;
  /** A unix socket to talk to instead of the URL's host (Docker). */
  socketPath?: string;
  /** Time allowed for the whole exchange: connecting, sending, and the answer's headers and body. */
  timeoutMs: number;
  /** Answers longer than this are cut off with an error (a misrouted download must not fill memory). */
  maxBytes?: number;
}

/** A network failure with a stable `code`, as the callers log and branch on (`ETIMEDOUT`, `ECONNREFUSED`…). */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

const DEFAULT_MAX_BYTES = 16 * 2 ** 20;

export function httpExchange(url: URL, exchange: HttpExchange): Promise<HttpAnswer> {
  const client = url.protocol === 'https:' ? nodeHttps() : nodeHttp();
  const maxBytes = exchange.maxBytes ?? DEFAULT_MAX_BYTES;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const fail = (error: Error) => {
      clearTimeout(timer);
      request.destroy();
      reject(error);
    };
    const request = client.request(url, {
      method: exchange.method,
      headers: {
        ...exchange.headers,
        ...(exchange.body !== undefined ? { 'content-length': String(Buffer.byteLength(exchange.body)) } : {}),
      },
      ...(exchange.agent ? { agent: exchange.agent } : {}),
      ...(exchange.socketPath ? { socketPath: exchange.socketPath } : {}),
    });
    // One deadline for the whole exchange: it behaves the same in every runtime, whatever their sockets report.
    const timer = setTimeout(() => {
      const peer = exchange.socketPath ?? url.origin;
      fail(new HttpError(`no complete answer from ${peer} within ${exchange.timeoutMs} ms`, 'ETIMEDOUT'));
    }, exchange.timeoutMs);
    request.once('error', (error: NodeJS.ErrnoException) =>
      fail(error instanceof HttpError ? error : new HttpError(error.message, error.code ?? 'network_error')),
    );
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > maxBytes) fail(new HttpError(`answer over ${maxBytes} bytes`, 'ETOOBIG'));
        else chunks.push(chunk);
      });
      response.once('error', (error: NodeJS.ErrnoException) =>
        fail(new HttpError(error.message, error.code ?? 'network_error')),
      );
      response.once('end', () => {
        clearTimeout(timer);
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    request.end(exchange.body);
  });
}
