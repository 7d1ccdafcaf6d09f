import http from 'node:http';

/** What the notification fakes share: a loopback server on a free port, JSON replies, whole bodies. */

export interface FakeServer {
  url: string;
  stop(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => unknown;

export async function startFakeServer(handler: Handler): Promise<FakeServer> {
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    try {
      await handler(req, Buffer.concat(chunks).toString('utf8'), res);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake server error: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const replyJson = (res: http.ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

export const replyText = (
  res: http.ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
) => res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(text);

export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** A scripted answer: the fakes answer from a queue per path, then normally. */
export interface ScriptedResponse {
  status: number;
  body?: string;
  retryAfterSeconds?: number;
  /** Hold the answer this long (the request is recorded on arrival). */
  delayMs?: number;
}

export class Scripts {
  private readonly queues = new Map<string, { responses: ScriptedResponse[]; sticky: boolean }>();

  /** `sticky`: the last response repeats forever (a channel that stays broken). */
  set(path: string, responses: ScriptedResponse[], sticky = false): void {
    this.queues.set(path, { responses: [...responses], sticky });
  }

  next(path: string): ScriptedResponse | undefined {
    const queue = this.queues.get(path);
    if (!queue || queue.responses.length === 0) return undefined;
    if (queue.sticky && queue.responses.length === 1) return queue.responses[0];
    return queue.responses.shift();
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function pathOf(req: http.IncomingMessage): { path: string; query: URLSearchParams } {
  const url = new URL(req.url ?? '/', 'http://fake');
  return { path: url.pathname, query: url.searchParams };
}
