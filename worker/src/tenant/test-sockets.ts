import { ServerMessage } from '@pulsewire/protocol';
import { expect } from 'vitest';

/**
 * Test helpers for live-stream sockets (imported by *.test.ts only): a queue of every server
 * message of one socket, validated by the protocol's schema, with the close event.
 */
export interface SocketQueue {
  ws: WebSocket;
  next(timeoutMs?: number): Promise<ServerMessage>;
  /** Resolves with the close code the server sent. */
  closed: Promise<{ code: number; reason: string }>;
  /** Proves nothing else is queued: a ping with a fresh id must come back as the very next message. */
  expectQuiet(): Promise<void>;
}

/**
 * Every text message of one socket in arrival order, and its close: `next` takes the oldest waiting
 * message or waits for the next one (rejecting after `timeoutMs`). Shared by the dashboard's and the
 * agent's socket tests, which differ only in how they read a message.
 */
export function textQueue(ws: WebSocket): {
  nextText(timeoutMs?: number): Promise<string>;
  closed: Promise<{ code: number; reason: string }>;
} {
  const received: string[] = [];
  const waiters: ((text: string) => void)[] = [];
  ws.addEventListener('message', (event) => {
    const text = event.data as string;
    const waiter = waiters.shift();
    if (waiter) waiter(text);
    else received.push(text);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason }));
  });
  const nextText = (timeoutMs = 5_000): Promise<string> => {
    const ready = received.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const waiter = (text: string) => {
        clearTimeout(timer);
        resolve(text);
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.push(waiter);
    });
  };
  return { nextText, closed };
}

export function socketQueue(ws: WebSocket): SocketQueue {
  const { nextText, closed } = textQueue(ws);
  const next = async (timeoutMs?: number): Promise<ServerMessage> =>
    ServerMessage.parse(JSON.parse(await nextText(timeoutMs)));
  return {
    ws,
    next,
    closed,
    async expectQuiet() {
      const id = `quiet-${crypto.randomUUID().slice(0, 8)}`;
      ws.send(JSON.stringify({ type: 'ping', id }));
      expect(await next()).toEqual({ type: 'pong', id });
    },
  };
}

/** Accepts the client end of an upgrade response and queues its messages. */
export function acceptSocket(res: Response, open: WebSocket[]): SocketQueue {
  expect(res.status).toBe(101);
  const ws = res.webSocket;
  if (!ws) throw new Error('no webSocket on the upgrade response');
  const queue = socketQueue(ws);
  ws.accept();
  open.push(ws);
  return queue;
}

export function closeAll(open: WebSocket[]): void {
  for (const ws of open.splice(0)) {
    try {
      ws.close(1000);
    } catch {
      // already closed
    }
  }
}
