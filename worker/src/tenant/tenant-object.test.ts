import { evictDurableObject } from 'cloudflare:test';
import { ServerMessage } from '@pulsewire/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { baseEnv } from '../../test/support.ts';
import { TENANT_HEADER } from './tenant-object.ts';

/** Collects every server message of one socket and lets a test await the next one. */
function messageQueue(ws: WebSocket) {
  const received: ServerMessage[] = [];
  const waiters: ((m: ServerMessage) => void)[] = [];
  ws.addEventListener('message', (event) => {
    const message = ServerMessage.parse(JSON.parse(event.data as string));
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else received.push(message);
  });
  return {
    next(): Promise<ServerMessage> {
      const ready = received.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message within 5 s')), 5_000);
        waiters.push((m) => {
          clearTimeout(timer);
          resolve(m);
        });
      });
    },
  };
}

const open: WebSocket[] = [];
afterEach(() => {
  for (const ws of open.splice(0)) ws.close(1000);
});

async function connect(tenantId: string) {
  const stub = baseEnv.TENANT.get(baseEnv.TENANT.idFromName(tenantId));
  const res = await stub.fetch('http://tenant/connect', {
    headers: { Upgrade: 'websocket', [TENANT_HEADER]: tenantId },
  });
  expect(res.status).toBe(101);
  const ws = res.webSocket;
  if (!ws) throw new Error('no webSocket on the upgrade response');
  const queue = messageQueue(ws);
  ws.accept();
  open.push(ws);
  return { ws, stub, ...queue };
}

describe('Tenant Durable Object WebSocket', () => {
  it('greets with hello, answers ping with pong and reports status', async () => {
    const tenantId = `tenant-${crypto.randomUUID()}`;
    const socket = await connect(tenantId);
    const hello = await socket.next();
    expect(hello).toMatchObject({ type: 'hello', protocol: 1, tenantId });

    socket.ws.send(JSON.stringify({ type: 'ping', id: 'p1' }));
    expect(await socket.next()).toEqual({ type: 'pong', id: 'p1' });

    const second = await connect(tenantId);
    await second.next();
    socket.ws.send(JSON.stringify({ type: 'get_status' }));
    const status = await socket.next();
    expect(status).toMatchObject({ type: 'status', connections: 2 });
  });

  it('answers malformed, unknown and oversize messages with an error and keeps the socket', async () => {
    const socket = await connect(`tenant-${crypto.randomUUID()}`);
    await socket.next();

    socket.ws.send('{not json');
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'invalid_message' });

    socket.ws.send(JSON.stringify({ type: 'launch_rockets' }));
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'unknown_type' });

    socket.ws.send(JSON.stringify({ type: 'ping', id: 42 }));
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'invalid_message' });

    socket.ws.send(JSON.stringify({ type: 'ping', id: 'x'.repeat(20_000) }));
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'message_too_large' });

    socket.ws.send(JSON.stringify({ type: 'ping' }));
    expect(await socket.next()).toEqual({ type: 'pong' });
  });

  it('keeps the connection and its state across hibernation', async () => {
    const tenantId = `tenant-${crypto.randomUUID()}`;
    const socket = await connect(tenantId);
    const hello = await socket.next();
    await evictDurableObject(socket.stub);
    socket.ws.send(JSON.stringify({ type: 'ping', id: 'after-eviction' }));
    expect(await socket.next()).toEqual({ type: 'pong', id: 'after-eviction' });
    socket.ws.send(JSON.stringify({ type: 'get_status' }));
    expect(await socket.next()).toMatchObject({ type: 'status', connections: 1 });
    expect(hello.type).toBe('hello');
  });

  it('refuses requests that are not WebSocket upgrades', async () => {
    const stub = baseEnv.TENANT.get(baseEnv.TENANT.idFromName('plain-http'));
    const res = await stub.fetch('http://tenant/connect');
    expect(res.status).toBe(426);
  });
});
