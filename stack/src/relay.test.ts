import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Relay, startRelay } from './relay.ts';

/** A TCP server that answers every chunk with "echo:" + the chunk, standing in for Postgres. */
function startEchoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((socket) =>
    socket.on('data', (d) => socket.write(Buffer.concat([Buffer.from('echo:'), d]))),
  );
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({ port, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('Postgres WebSocket relay', () => {
  let relay: Relay;
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  beforeAll(async () => {
    relay = await startRelay();
    echo = await startEchoServer();
  });
  afterAll(async () => {
    await relay.stop();
    await echo.close();
  });

  it('pipes binary frames to the TCP target and back, including bytes sent before it connects', async () => {
    const ws = await open(`ws://${relay.address}/v2?address=127.0.0.1:${echo.port}`);
    const reply = new Promise<Buffer>((resolve) => ws.once('message', (data) => resolve(data as Buffer)));
    ws.send(Buffer.from([0, 1, 2, 255]));
    expect([...(await reply)]).toEqual([...Buffer.from('echo:'), 0, 1, 2, 255]);
    ws.close();
  });

  it('ends the Postgres connection after the client’s Terminate even if the client never closes its socket', async () => {
    // Like workerd's WebSocket once a Worker's request is over: it sends Terminate and then goes silent.
    const received: Buffer[] = [];
    const ended = new Promise<void>((resolve) => {
      const target = net.createServer((socket) => {
        socket.on('data', (d) => received.push(d));
        socket.on('end', () => {
          socket.end();
          resolve();
        });
      });
      target.listen(0, '127.0.0.1', async () => {
        const port = (target.address() as net.AddressInfo).port;
        const ws = await open(`ws://${relay.address}/v2?address=127.0.0.1:${port}`);
        const startup = Buffer.from([0, 0, 0, 8, 0, 3, 0, 0]);
        const terminate = Buffer.from([0x58, 0, 0, 0, 4]);
        ws.send(Buffer.concat([startup, terminate]));
        ended.finally(() => target.close());
      });
    });
    await ended;
    expect(Buffer.concat(received).subarray(-5)).toEqual(Buffer.from([0x58, 0, 0, 0, 4]));
  });

  it('refuses to connect anywhere but loopback', async () => {
    const ws = await open(`ws://${relay.address}/v2?address=10.0.0.1:5432`);
    const code = await new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
    expect(code).toBe(1008);
  });

  it('closes the socket when the target refuses the connection', async () => {
    const ws = await open(`ws://${relay.address}/v2?address=127.0.0.1:9`);
    const code = await new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
    expect(code).toBe(1011);
  });
});
