import http from 'node:http';
import net from 'node:net';
import { WebSocketServer } from 'ws';
import { TerminateWatcher } from './pg-terminate.ts';
import { assertPortFree, freePort } from './ports.ts';

export interface Relay {
  /** `host:port`, the value of the Worker's `PG_RELAY` variable. */
  address: string;
  port: number;
  stop(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * The local stand-in for Neon's WebSocket proxy: the Neon driver in the Worker opens
 * `ws://<relay>/v2?address=host:port` and the relay pipes its binary frames to Postgres' TCP port.
 * It only ever connects to loopback addresses, so it cannot be used to reach other machines.
 */
export async function startRelay(options: { port?: number } = {}): Promise<Relay> {
  const port = options.port || (await freePort());
  if (options.port) await assertPortFree(port, 'Postgres WebSocket relay');
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket upgrade required\n');
  });
  const wss = new WebSocketServer({ server, maxPayload: 64 * 1024 * 1024 });

  wss.on('connection', (ws, req) => {
    const target = new URL(req.url ?? '/', 'http://relay').searchParams.get('address') ?? '';
    const match = /^(.+):(\d{1,5})$/.exec(target);
    if (!match || !LOOPBACK.has(match[1] as string)) {
      ws.close(1008, 'relay only connects to loopback addresses');
      return;
    }
    const socket = net.connect({ host: match[1] as string, port: Number(match[2]) });
    socket.setNoDelay(true);
    const pending: Buffer[] = [];
    let connected = false;
    socket.on('connect', () => {
      connected = true;
      for (const chunk of pending.splice(0)) socket.write(chunk);
    });
    socket.on('data', (data) => {
      if (ws.readyState === ws.OPEN) ws.send(data, { binary: true });
    });
    socket.on('error', () => ws.close(1011, 'upstream error'));
    socket.on('close', () => {
      if (ws.readyState === ws.OPEN) ws.close(1000);
    });
    const session = new TerminateWatcher();
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (connected) socket.write(chunk);
      else pending.push(chunk);
      // The session is over: close it here, since the Worker's side never closes its socket.
      if (session.push(chunk)) {
        socket.end();
        ws.terminate();
      }
    });
    ws.on('close', () => socket.end());
    ws.on('error', () => socket.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    address: `127.0.0.1:${port}`,
    port,
    async stop() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
