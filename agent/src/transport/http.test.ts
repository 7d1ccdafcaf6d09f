import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError, httpExchange } from './http.ts';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: http.RequestListener): Promise<URL> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest?x=1`);
}

describe('one HTTP exchange over node:http', () => {
  it('sends the body with its length and reads the whole answer, status and headers', async () => {
    const seen: { url?: string; length?: string; body?: string } = {};
    const url = await serve(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      Object.assign(seen, {
        url: req.url,
        length: req.headers['content-length'],
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(429, { 'retry-after': '7' }).end('{"slow":"down"}');
    });
    const answer = await httpExchange(url, { method: 'POST', body: 'héllo', timeoutMs: 5000 });
    expect(answer).toMatchObject({ status: 429, text: '{"slow":"down"}', headers: { 'retry-after': '7' } });
    expect(seen).toEqual({ url: '/ingest?x=1', length: '6', body: 'héllo' });
  });

  it('gives up at the deadline when the server never answers', async () => {
    const url = await serve(() => undefined);
    const exchange = httpExchange(url, { method: 'GET', timeoutMs: 200 });
    await expect(exchange).rejects.toBeInstanceOf(HttpError);
    await expect(exchange).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('cuts off an answer longer than allowed', async () => {
    const url = await serve((_req, res) => res.end('x'.repeat(10_000)));
    await expect(httpExchange(url, { method: 'GET', timeoutMs: 5000, maxBytes: 1000 })).rejects.toMatchObject({
      code: 'ETOOBIG',
    });
  });

  it('reports a refused connection with its system code', async () => {
    const url = await serve(() => undefined);
    await new Promise((resolve) => servers.pop()?.close(resolve));
    await expect(httpExchange(url, { method: 'GET', timeoutMs: 5000 })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('reuses one keep-alive connection through an agent', async () => {
    const sockets = new Set<unknown>();
    const url = await serve((req, res) => {
      sockets.add(req.socket);
      res.end('ok');
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 3; i++)
      expect((await httpExchange(url, { method: 'GET', agent, timeoutMs: 5000 })).text).toBe('ok');
    expect(sockets.size).toBe(1);
    agent.destroy();
  });
});
