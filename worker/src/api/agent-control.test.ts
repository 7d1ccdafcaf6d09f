import { runInDurableObject } from 'cloudflare:test';
import { CONTROL_CLOSE, CONTROL_PATH, CreatedApiKey, generateHostKeyPair, LIVE_CADENCE } from '@pulsewire/protocol';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sample, TestAgent } from '../../test/agent.ts';
import { signedUpClient, TestClient } from '../../test/client.ts';
import { connectControl, controlRequest } from '../../test/control.ts';
import { callWorker, isolatedEnv } from '../../test/support.ts';
import { createApp } from '../app.ts';
import type { Env } from '../env.ts';
import { agentTag, readAgentAttachment } from '../tenant/agent-control.ts';
import { acceptSocket, closeAll, type SocketQueue } from '../tenant/test-sockets.ts';

const UPGRADE = { Upgrade: 'websocket' };
const IDLE = { collectIntervalMs: 10_000, pushIntervalMs: 30_000, live: false };
const open: WebSocket[] = [];
afterEach(() => closeAll(open));

const connect = (env: Env, agent: TestAgent) => connectControl(env, agent, open);

async function dashboard(owner: TestClient): Promise<SocketQueue> {
  const socket = acceptSocket(await owner.request('GET', '/api/v1/stream', undefined, UPGRADE), open);
  expect(await socket.next()).toMatchObject({ type: 'hello' });
  return socket;
}

async function send(socket: SocketQueue, message: Record<string, unknown>, reply: string) {
  socket.ws.send(JSON.stringify(message));
  expect(await socket.next()).toMatchObject({ type: reply });
}

const tenantOf = (env: Env, agent: TestAgent) => env.TENANT.get(env.TENANT.idFromName(agent.tenantId));

describe(`GET ${CONTROL_PATH}`, () => {
  let env: Env;
  let owner: TestClient;
  let ingestKey: string;
  const enroll = (name: string) => TestAgent.enroll(env, ingestKey, crypto.randomUUID(), name);
  beforeAll(async () => {
    env = await isolatedEnv();
    ({ client: owner } = await signedUpClient(env, 'control'));
    ingestKey = CreatedApiKey.parse(
      await (await owner.post('/api/v1/keys', { name: 'agents', scope: 'ingest' })).json(),
    ).secret;
  });

  it('is the route the protocol names', () => {
    expect(createApp().routes.some((r) => r.method === 'GET' && r.path === CONTROL_PATH)).toBe(true);
  });

  it('refuses a wrong signature, a push signature, a stale clock and a revoked host with JSON errors, before any upgrade', async () => {
    const agent = await enroll('refused');
    const errorOf = async (res: Response) => {
      expect(res.webSocket).toBeFalsy();
      return ((await res.json()) as { error: { code: string } }).error.code;
    };

    const unsigned = await callWorker(env, CONTROL_PATH, { headers: UPGRADE });
    expect(unsigned.status).toBe(401);
    expect(await errorOf(unsigned)).toBe('bad_signature');

    const stranger = await generateHostKeyPair();
    const forged = await controlRequest(env, agent, { privateKey: stranger.privateKey });
    expect(forged.status).toBe(401);
    expect(await errorOf(forged)).toBe('bad_signature');

    // A push is signed over a UUID batch id: such a signature never opens a control socket.
    const pushSigned = await controlRequest(env, agent, { batchId: crypto.randomUUID() });
    expect(pushSigned.status).toBe(401);
    expect(await errorOf(pushSigned)).toBe('bad_signature');

    const stale = await controlRequest(env, agent, { timestamp: Date.now() - 10 * 60_000 });
    expect(stale.status).toBe(401);
    expect(await errorOf(stale)).toBe('stale_timestamp');

    const notUpgrade = await controlRequest(env, agent, { headers: { Upgrade: '' } });
    expect(notUpgrade.status).toBe(426);
    expect(await errorOf(notUpgrade)).toBe('upgrade_required');

    expect((await owner.post(`/api/v1/hosts/${agent.hostId}/revoke`)).status).toBe(200);
    const revoked = await controlRequest(env, agent);
    expect(revoked.status).toBe(403);
    expect(await errorOf(revoked)).toBe('host_revoked');
  });

  it('tells the agent its cadence on accept, goes live the moment a dashboard subscribes, and relaxes when the last watcher leaves', async () => {
    const agent = await enroll('watched');
    const control = await connect(env, agent);
    expect(await control.next()).toEqual({ type: 'cadence', cadence: IDLE });

    // "*" follows at the idle cadence: no message.
    const first = await dashboard(owner);
    await send(first, { type: 'subscribe', hosts: '*', streams: ['metrics'] }, 'subscribed');
    await control.expectQuiet();

    // Naming the host in a metrics subscription: live at once, without any push from the agent.
    await send(first, { type: 'subscribe', hosts: [agent.hostId], streams: ['metrics'] }, 'subscribed');
    expect(await control.next()).toEqual({ type: 'cadence', cadence: LIVE_CADENCE });

    // A second watcher changes nothing for the agent; the first leaving neither.
    const second = await dashboard(owner);
    await send(second, { type: 'subscribe', hosts: [agent.hostId], streams: ['metrics', 'events'] }, 'subscribed');
    await send(first, { type: 'unsubscribe', hosts: [agent.hostId] }, 'subscribed');
    await control.expectQuiet();

    // The last one unsubscribing relaxes it.
    await send(second, { type: 'unsubscribe', hosts: [agent.hostId] }, 'subscribed');
    expect(await control.next()).toEqual({ type: 'cadence', cadence: IDLE });

    // A watcher that closes its tab relaxes it too.
    await send(second, { type: 'subscribe', hosts: [agent.hostId], streams: ['metrics'] }, 'subscribed');
    expect(await control.next()).toMatchObject({ cadence: { live: true } });
    second.ws.close(1000);
    expect(await control.next()).toEqual({ type: 'cadence', cadence: IDLE });

    // An agent connecting while its host is watched hears "live" on accept; the push answer agrees.
    await send(first, { type: 'subscribe', hosts: [agent.hostId], streams: ['metrics'] }, 'subscribed');
    expect(await control.next()).toMatchObject({ cadence: { live: true } });
    const again = await connect(env, agent);
    expect(await again.next()).toEqual({ type: 'cadence', cadence: LIVE_CADENCE });
    // Only the newest socket of a host is kept.
    expect((await control.closed).code).toBe(CONTROL_CLOSE.replaced);
    const pushed = await agent.push(agent.batch([sample(Date.now())]));
    expect(pushed.status).toBe(200);
    expect(((await pushed.json()) as { cadence: unknown }).cadence).toEqual(LIVE_CADENCE);
  });

  it('relaxes the agent when access ends for its last watcher (a revoked read key), even on a woken object', async () => {
    const agent = await enroll('key-watched');
    const control = await connect(env, agent);
    await control.next();
    const read = CreatedApiKey.parse(
      await (await owner.post('/api/v1/keys', { name: 'wall screen', scope: 'read' })).json(),
    );
    const screen = acceptSocket(
      await new TestClient(env).request('GET', '/api/v1/stream', undefined, {
        ...UPGRADE,
        Authorization: `Bearer ${read.secret}`,
      }),
      open,
    );
    expect(await screen.next()).toMatchObject({ type: 'hello' });
    await send(screen, { type: 'subscribe', hosts: [agent.hostId], streams: ['metrics'] }, 'subscribed');
    expect(await control.next()).toMatchObject({ cadence: { live: true } });
    await runInDurableObject(tenantOf(env, agent), (instance) => {
      Object.assign(instance, { socketIndex: null, hostIndex: new Map(), wildcard: new Set() });
    });
    expect((await owner.delete(`/api/v1/keys/${read.key.id}`)).status).toBe(200);
    expect((await screen.closed).code).toBe(4001);
    expect(await control.next()).toEqual({ type: 'cadence', cadence: IDLE });
  });

  it('keeps what the agent was told in the socket attachment, so a woken object sends only changes', async () => {
    const agent = await enroll('hibernating');
    const control = await connect(env, agent);
    await control.next();
    const watcher = await dashboard(owner);
    await send(watcher, { type: 'subscribe', hosts: [agent.hostId], streams: ['metrics'] }, 'subscribed');
    expect(await control.next()).toMatchObject({ cadence: { live: true } });

    // As after hibernation: the object's memory is gone, only the sockets and their attachments are left.
    await runInDurableObject(tenantOf(env, agent), (instance, state) => {
      const [ws] = state.getWebSockets(agentTag(agent.hostId));
      expect(ws && readAgentAttachment(ws)).toMatchObject({ kind: 'agent', hostId: agent.hostId, live: true });
      Object.assign(instance, { socketIndex: null, hostIndex: new Map(), wildcard: new Set() });
    });
    // The rebuilt index keeps the agent's socket (not a dashboard's lost state) and the watcher's subscription:
    // a second subscribe to the same host tells the agent nothing new.
    await send(watcher, { type: 'subscribe', hosts: [agent.hostId], streams: ['metrics', 'events'] }, 'subscribed');
    await control.expectQuiet();

    await runInDurableObject(tenantOf(env, agent), (instance) => {
      Object.assign(instance, { socketIndex: null, hostIndex: new Map(), wildcard: new Set() });
    });
    await send(watcher, { type: 'unsubscribe', hosts: [agent.hostId] }, 'subscribed');
    expect(await control.next()).toEqual({ type: 'cadence', cadence: IDLE });
    await runInDurableObject(tenantOf(env, agent), (_instance, state) => {
      const [ws] = state.getWebSockets(agentTag(agent.hostId));
      expect(ws && readAgentAttachment(ws)).toMatchObject({ live: false });
    });
  });

  it('never lets a dashboard client pass for an agent: the stream route drops the agent header', async () => {
    const agent = await enroll('impersonated');
    const socket = acceptSocket(
      await owner.request('GET', '/api/v1/stream', undefined, {
        ...UPGRADE,
        'X-Pulsewire-Agent-Host': agent.hostId,
        'X-Pulsewire-Tenant': agent.tenantId,
      }),
      open,
    );
    expect(await socket.next()).toMatchObject({ type: 'hello' });
    await runInDurableObject(tenantOf(env, agent), (_instance, state) => {
      expect(state.getWebSockets(agentTag(agent.hostId))).toHaveLength(0);
    });
  });

  it('answers keep-alives, closes a socket that sends anything else, and closes it when the host is revoked', async () => {
    const agent = await enroll('talkative');
    const chatty = await connect(env, agent);
    await chatty.next();
    await chatty.expectQuiet();
    chatty.ws.send(JSON.stringify({ type: 'subscribe', hosts: '*', streams: ['metrics'] }));
    expect((await chatty.closed).code).toBe(CONTROL_CLOSE.unexpected);

    const control = await connect(env, agent);
    await control.next();
    expect((await owner.post(`/api/v1/hosts/${agent.hostId}/revoke`)).status).toBe(200);
    expect((await control.closed).code).toBe(CONTROL_CLOSE.revoked);
  });
});
