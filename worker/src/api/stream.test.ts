import { runInDurableObject } from 'cloudflare:test';
import { ApiKeyList, CreatedApiKey, IngestResponse, LIVE_CADENCE, MeResponse } from '@pulsewire/protocol';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sample, TestAgent } from '../../test/agent.ts';
import { signedUpClient, TestClient } from '../../test/client.ts';
import { isolatedEnv } from '../../test/support.ts';
import type { Env } from '../env.ts';
import { acceptSocket, closeAll, type SocketQueue } from '../tenant/test-sockets.ts';

const STREAM = '/api/v1/stream';
const UPGRADE = { Upgrade: 'websocket' };

const open: WebSocket[] = [];
afterEach(() => closeAll(open));

interface Org {
  owner: TestClient;
  tenantId: string;
  agent: TestAgent;
  readKey: string;
}

async function organisation(env: Env, label: string): Promise<Org> {
  const { client: owner } = await signedUpClient(env, label);
  const me = MeResponse.parse(await (await owner.get('/api/v1/me')).json());
  const ingest = CreatedApiKey.parse(
    await (await owner.post('/api/v1/keys', { name: 'agents', scope: 'ingest' })).json(),
  );
  const read = CreatedApiKey.parse(await (await owner.post('/api/v1/keys', { name: 'script', scope: 'read' })).json());
  const agent = await TestAgent.enroll(env, ingest.secret, crypto.randomUUID(), `${label}-host`);
  return { owner, tenantId: me.organization.id, agent, readKey: read.secret };
}

async function stream(client: TestClient, headers: Record<string, string> = {}): Promise<SocketQueue> {
  const socket = acceptSocket(await client.request('GET', STREAM, undefined, { ...UPGRADE, ...headers }), open);
  expect(await socket.next()).toMatchObject({ type: 'hello' });
  return socket;
}

async function push(agent: TestAgent, extra: Parameters<TestAgent['batch']>[1] = {}, cpu = 12.5) {
  const res = await agent.push(agent.batch([sample(Date.now(), cpu)], extra));
  expect(res.status).toBe(200);
  return IngestResponse.parse(await res.json());
}

/**
 * The Worker under test runs with this file's own database (`isolatedEnv`), but the runtime gives
 * tenant objects the bindings of wrangler.toml, without DATABASE_URL, and an object with no database
 * accepts any host id. In production the Worker and its objects share one env: give this tenant's
 * object the test's, so that it checks host ids against the same database.
 */
async function objectUsesDatabase(env: Env, tenantId: string) {
  await runInDurableObject(env.TENANT.get(env.TENANT.idFromName(tenantId)), (instance) => {
    Object.assign(instance, { env });
  });
}

async function subscribe(socket: SocketQueue, message: Record<string, unknown>) {
  socket.ws.send(JSON.stringify({ type: 'subscribe', ...message }));
  expect(await socket.next()).toMatchObject({ type: 'subscribed' });
}

describe('GET /api/v1/stream', () => {
  let env: Env;
  let a: Org;
  let b: Org;
  beforeAll(async () => {
    env = await isolatedEnv();
    a = await organisation(env, 'stream-a');
    b = await organisation(env, 'stream-b');
  });

  it('refuses unauthenticated, foreign-origin and non-upgrade requests with JSON errors', async () => {
    const anonymous = await new TestClient(env).request('GET', STREAM, undefined, UPGRADE);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'unauthorized' } });

    const foreign = await a.owner.request('GET', STREAM, undefined, { ...UPGRADE, Origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ error: { code: 'origin_rejected' } });

    const plain = await a.owner.get(STREAM);
    expect(plain.status).toBe(426);
    expect(await plain.json()).toMatchObject({ error: { code: 'upgrade_required' } });

    const ingestKey = CreatedApiKey.parse(
      await (await a.owner.post('/api/v1/keys', { name: 'x', scope: 'ingest' })).json(),
    ).secret;
    const wrongScope = await new TestClient(env).request('GET', STREAM, undefined, {
      ...UPGRADE,
      Authorization: `Bearer ${ingestKey}`,
    });
    expect(wrongScope.status).toBe(403);
  });

  it("accepts the dashboard's own origin, PUBLIC_URL's origin and a read API key", async () => {
    const own = await stream(a.owner, { Origin: 'http://pulsewire.test' });
    own.ws.send(JSON.stringify({ type: 'ping', id: 'own' }));
    expect(await own.next()).toEqual({ type: 'pong', id: 'own' });

    const publicUrl = new TestClient({ ...env, PUBLIC_URL: 'https://app.pulsewire.example/' });
    publicUrl.cookies = a.owner.cookies;
    await stream(publicUrl, { Origin: 'https://app.pulsewire.example' });

    const key = acceptSocket(
      await new TestClient(env).request('GET', STREAM, undefined, { ...UPGRADE, Authorization: `Bearer ${a.readKey}` }),
      open,
    );
    expect(await key.next()).toMatchObject({ type: 'hello', tenantId: a.tenantId });
  });

  it("ignores client copies of the trusted headers: the socket is always on the caller's own tenant", async () => {
    const socket = acceptSocket(
      await a.owner.request('GET', STREAM, undefined, {
        ...UPGRADE,
        'X-Pulsewire-Tenant': b.tenantId,
        'X-Pulsewire-Principal': 'user:someone-else',
        'X-Pulsewire-Role': 'owner',
      }),
      open,
    );
    expect(await socket.next()).toMatchObject({ type: 'hello', tenantId: a.tenantId });
    await subscribe(socket, { hosts: '*', streams: ['metrics'] });
    await push(b.agent);
    await push(a.agent);
    expect(await socket.next()).toMatchObject({ type: 'metrics', hostId: a.agent.hostId });
    await socket.expectQuiet();
  });

  it('limits connections per user as configured, whatever the client claims', async () => {
    const limited = { ...env, STREAM_MAX_CONNECTIONS_PER_USER: '2' };
    const { client } = await signedUpClient(env, 'limited');
    const user = new TestClient(limited);
    user.cookies = client.cookies;
    const spoof = { 'X-Pulsewire-Max-Principal-Connections': '1000' };
    await stream(user, spoof);
    await stream(user, spoof);
    const third = await user.request('GET', STREAM, undefined, { ...UPGRADE, ...spoof });
    expect(third.status).toBe(429);
    expect(await third.json()).toMatchObject({ error: { code: 'too_many_connections' } });
    // Another user is not affected by this user's limit.
    const { client: another } = await signedUpClient(env, 'another');
    const other = new TestClient(limited);
    other.cookies = another.cookies;
    await stream(other);
  });

  it('never sends one organisation the data of another', async () => {
    const watcherA = await stream(a.owner);
    const watcherB = await stream(b.owner);
    const all = ['metrics', 'events', 'host_status', 'alerts'];
    await push(a.agent);
    await push(b.agent);
    // Subscribing to host_status first sends the current status of the organisation's known hosts: only its own.
    await subscribe(watcherA, { hosts: '*', streams: all });
    expect(await watcherA.next()).toMatchObject({
      type: 'host_statuses',
      statuses: [{ hostId: a.agent.hostId, status: 'online' }],
    });
    await watcherA.expectQuiet();
    await subscribe(watcherB, { hosts: '*', streams: all });
    expect(await watcherB.next()).toMatchObject({
      type: 'host_statuses',
      statuses: [{ hostId: b.agent.hostId, status: 'online' }],
    });
    // B even names A's host id explicitly. B's object has no database here (see objectUsesDatabase), so it
    // accepts the id; still nothing of A's host reaches B (nor is it watched live): batches reach their own object.
    await subscribe(watcherB, { hosts: [a.agent.hostId], streams: all });
    await watcherB.expectQuiet();

    const answer = await push(a.agent, { events: [{ ts: Date.now(), kind: 'job.completed', id: 'nightly' }] }, 77);
    expect(answer.cadence.live).toBe(false);
    expect(await watcherA.next()).toMatchObject({ type: 'metrics', hostId: a.agent.hostId });
    expect(await watcherA.next()).toMatchObject({ type: 'event', hostId: a.agent.hostId, event: { id: 'nightly' } });
    await watcherB.expectQuiet();
  });

  it('turns the cadence live while a host is watched, through real ingest, and relaxes when the watcher leaves', async () => {
    const { agent } = a;
    expect((await push(agent)).cadence).toMatchObject({ live: false, pushIntervalMs: 30_000 });

    const watcher = await stream(a.owner);
    await subscribe(watcher, { hosts: [agent.hostId], streams: ['metrics'] });
    expect((await push(agent, {}, 42)).cadence).toEqual({ collectIntervalMs: 1000, pushIntervalMs: 1000, live: true });
    const metrics = await watcher.next();
    expect(metrics).toMatchObject({ type: 'metrics', hostId: agent.hostId });
    expect(metrics.type === 'metrics' && metrics.samples[0]).toMatchObject({
      cpu: { total: 42 },
      mem: { total: 24e9, used: 6e9 },
    });

    watcher.ws.send(JSON.stringify({ type: 'unsubscribe', hosts: [agent.hostId] }));
    expect(await watcher.next()).toEqual({ type: 'subscribed', subscriptions: [] });
    expect((await push(agent)).cadence.live).toBe(false);

    // Watching with "*" only follows at the normal cadence.
    await subscribe(watcher, { hosts: '*', streams: ['metrics'] });
    expect((await push(agent)).cadence.live).toBe(false);

    // A watcher that just closes its tab also ends live mode.
    const tab = await stream(a.owner);
    await subscribe(tab, { hosts: [agent.hostId], streams: ['metrics'] });
    expect((await push(agent)).cadence.live).toBe(true);
    tab.ws.close(1000, 'tab closed');
    let live = true;
    for (let i = 0; i < 20 && live; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      live = (await push(agent)).cadence.live;
    }
    expect(live).toBe(false);
  });

  it('delivers events through real ingest honoring the eventKinds filter', async () => {
    const watcher = await stream(a.owner);
    await subscribe(watcher, { hosts: [a.agent.hostId], streams: ['events'], filters: { eventKinds: ['job.failed'] } });
    const ts = Date.now();
    await push(a.agent, {
      events: [
        { ts, kind: 'job.started', id: 'backup' },
        { ts, kind: 'job.failed', id: 'backup', message: 'disk full' },
      ],
    });
    expect(await watcher.next()).toEqual({
      type: 'event',
      seq: expect.any(Number),
      hostId: a.agent.hostId,
      event: { ts, kind: 'job.failed', id: 'backup', message: 'disk full' },
    });
    await watcher.expectQuiet();
  });

  it('closes sockets with 4001 when their access ends: sessions revoked, key revoked', async () => {
    const org = await organisation(env, 'stream-revoke');
    const bySession = await stream(org.owner);
    const { keys } = ApiKeyList.parse(await (await org.owner.get('/api/v1/keys')).json());
    const readKey = keys.find((k) => k.scope === 'read');
    const byKey = await stream(new TestClient(env), { Authorization: `Bearer ${org.readKey}` });

    expect((await org.owner.delete(`/api/v1/keys/${readKey?.id}`)).status).toBe(200);
    expect(await byKey.closed).toMatchObject({ code: 4001 });
    await bySession.expectQuiet(); // the owner's own socket is untouched by the key's revocation

    expect((await org.owner.post('/api/v1/auth/logout-all')).status).toBe(200);
    expect(await bySession.closed).toMatchObject({ code: 4001 });
  });

  it('closes the socket of a session that signs out', async () => {
    const org = await organisation(env, 'stream-logout');
    const socket = await stream(org.owner);
    expect((await org.owner.post('/api/v1/auth/logout')).status).toBe(200);
    expect(await socket.closed).toMatchObject({ code: 4001 });
  });

  it('answers a retried batch of a watched host with the live cadence, and sends it once', async () => {
    const watcher = await stream(a.owner);
    await subscribe(watcher, { hosts: [a.agent.hostId], streams: ['metrics'] });
    const batch = a.agent.batch([sample(Date.now(), 33)]);
    const first = IngestResponse.parse(await (await a.agent.push(batch)).json());
    expect(first).toMatchObject({ duplicate: false, cadence: LIVE_CADENCE });
    expect(await watcher.next()).toMatchObject({ type: 'metrics', hostId: a.agent.hostId });

    const again = IngestResponse.parse(await (await a.agent.push(batch)).json());
    expect(again).toEqual({ accepted: 0, duplicate: true, cadence: LIVE_CADENCE });
    await watcher.expectQuiet();

    watcher.ws.send(JSON.stringify({ type: 'unsubscribe', hosts: [a.agent.hostId] }));
    expect(await watcher.next()).toMatchObject({ type: 'subscribed' });
    const unwatched = IngestResponse.parse(await (await a.agent.push(batch)).json());
    expect(unwatched).toMatchObject({ duplicate: true, cadence: { live: false, pushIntervalMs: 30_000 } });
  });

  it("refuses a subscribe naming hosts that are not the organisation's, all or nothing; its own are found in Postgres", async () => {
    const c = await organisation(env, 'stream-hosts');
    await objectUsesDatabase(env, c.tenantId);
    const socket = await stream(c.owner);
    const own = c.agent.hostId;

    // c's host has never pushed, so the object learns it from Postgres. The unsubscribe right behind the
    // subscribe needs no lookup, yet is applied after it: a socket's changes keep their order.
    socket.ws.send(JSON.stringify({ type: 'subscribe', id: 'mine', hosts: [own], streams: ['metrics'] }));
    socket.ws.send(JSON.stringify({ type: 'unsubscribe', id: 'gone', hosts: [own] }));
    expect(await socket.next()).toEqual({
      type: 'subscribed',
      id: 'mine',
      subscriptions: [{ hosts: [own], streams: ['metrics'] }],
    });
    expect(await socket.next()).toEqual({ type: 'subscribed', id: 'gone', subscriptions: [] });
    expect((await push(c.agent)).cadence.live).toBe(false);

    const strangers: [string, string][] = [
      ['random', crypto.randomUUID()],
      ['of-b', b.agent.hostId],
      ['not-an-id', 'web-1'],
    ];
    for (const [id, foreign] of strangers) {
      socket.ws.send(JSON.stringify({ type: 'subscribe', id, hosts: [own, foreign], streams: ['metrics', 'events'] }));
      expect(await socket.next()).toEqual({
        type: 'error',
        code: 'unknown_host',
        id,
        hostIds: [foreign],
        message: expect.stringContaining(foreign),
      });
    }
    socket.ws.send(JSON.stringify({ type: 'get_status' }));
    expect(await socket.next()).toMatchObject({ type: 'status', subscriptions: [] });
    expect((await push(c.agent)).cadence.live).toBe(false);
    await socket.expectQuiet();

    await subscribe(socket, { hosts: [own], streams: ['metrics'] });
    expect((await push(c.agent, {}, 61)).cadence.live).toBe(true);
    expect(await socket.next()).toMatchObject({ type: 'metrics', hostId: own, samples: [{ cpu: { total: 61 } }] });
  });
});
