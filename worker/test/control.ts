import {
  CONTROL_BATCH_PREFIX,
  CONTROL_PATH,
  type ControlBatch,
  ControlServerMessage,
  type IngestBatch,
  importPrivateKey,
  KEEPALIVE_PING,
  KEEPALIVE_PONG,
  signIngestRequest,
} from '@pulsewire/protocol';
import { expect } from 'vitest';
import type { Env } from '../src/env.ts';
import { textQueue } from '../src/tenant/test-sockets.ts';
import type { TestAgent } from './agent.ts';
import { callWorker } from './support.ts';

/**
 * Test helpers for the agent's control socket (imported by *.test.ts only): the signed upgrade through the real
 * route, a queue of the server's messages parsed with the protocol's schema, and signed batch messages.
 */
export interface ControlQueue {
  ws: WebSocket;
  next(timeoutMs?: number): Promise<ControlServerMessage>;
  /** Nothing queued: a keep-alive sent now is answered before any other message. */
  expectQuiet(): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
}

export function controlQueue(res: Response, open: WebSocket[]): ControlQueue {
  expect(res.status).toBe(101);
  const ws = res.webSocket;
  if (!ws) throw new Error('no webSocket on the upgrade response');
  const { nextText, closed } = textQueue(ws);
  ws.accept();
  open.push(ws);
  return {
    ws,
    closed,
    next: async (timeoutMs) => ControlServerMessage.parse(JSON.parse(await nextText(timeoutMs))),
    async expectQuiet() {
      ws.send(KEEPALIVE_PING);
      expect(await nextText()).toBe(KEEPALIVE_PONG);
    },
  };
}

export async function controlRequest(
  env: Env,
  agent: TestAgent,
  options: { privateKey?: string; batchId?: string; timestamp?: number; headers?: Record<string, string> } = {},
): Promise<Response> {
  const signature = await signIngestRequest({
    privateKey: await importPrivateKey(options.privateKey ?? agent.privateKey),
    hostId: agent.hostId,
    batchId: options.batchId ?? `${CONTROL_BATCH_PREFIX}${crypto.randomUUID()}`,
    body: new Uint8Array(0),
    ...(options.timestamp ? { timestamp: options.timestamp } : {}),
  });
  return callWorker(env, CONTROL_PATH, { headers: { Upgrade: 'websocket', ...signature, ...options.headers } });
}

/** The agent's control socket, connected and accepted. */
export async function connectControl(env: Env, agent: TestAgent, open: WebSocket[]): Promise<ControlQueue> {
  return controlQueue(await controlRequest(env, agent), open);
}

/** A batch as the agent sends it on its control socket: the push's signed headers over the uncompressed body. */
export async function controlBatch(
  agent: TestAgent,
  batch: IngestBatch | Record<string, unknown>,
  options: { timestamp?: number; hostId?: string; body?: string; privateKey?: string } = {},
): Promise<ControlBatch> {
  const body = options.body ?? JSON.stringify(batch);
  const headers = await signIngestRequest({
    privateKey: await importPrivateKey(options.privateKey ?? agent.privateKey),
    hostId: options.hostId ?? agent.hostId,
    batchId: String(batch.batch_id),
    seq: Number(batch.seq),
    body: new Uint8Array(new TextEncoder().encode(body)),
    ...(options.timestamp ? { timestamp: options.timestamp } : {}),
  });
  return {
    type: 'batch',
    headers: headers as ControlBatch['headers'],
    body,
  };
}
