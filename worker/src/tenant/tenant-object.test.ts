import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import {
  type AppEvent,
  LIVE_CADENCE,
  type LiveSample,
  MAX_UNACKED_BYTES,
  MAX_UNACKED_FRAMES,
  type ServerAlert,
  type ServerMessage,
} from '@pulsewire/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { baseEnv } from '../../test/support.ts';
import { FLOOD } from './flood.ts';
import { MAX_SUBSCRIPTIONS_PER_SOCKET } from './subscriptions.ts';
import { MAX_LIVE_EVENTS_PER_BATCH, PRINCIPAL_HEADER, ROLE_HEADER, TENANT_HEADER } from './tenant-object.ts';
import { acceptSocket, closeAll, type SocketQueue } from './test-sockets.ts';

const IDLE = { collectIntervalMs: 10_000, pushIntervalMs: 30_000, live: false };

const open: WebSocket[] = [];
afterEach(() => closeAll(open));

function stubFor(tenantId: string) {
  return baseEnv.TENANT.get(baseEnv.TENANT.idFromName(tenantId));
}

async function connect(tenantId: string, principal = 'user:u1') {
  const stub = stubFor(tenantId);
  const res = await stub.fetch('http://tenant/connect', {
    headers: {
      Upgrade: 'websocket',
      [TENANT_HEADER]: tenantId,
      [PRINCIPAL_HEADER]: principal,
      [ROLE_HEADER]: 'viewer',
    },
  });
  const socket = acceptSocket(res, open);
  const hello = await socket.next();
  expect(hello).toMatchObject({ type: 'hello', protocol: 1, tenantId });
  return { ...socket, stub, hello };
}

const newTenant = () => `tenant-${crypto.randomUUID()}`;
const live = (ts: number, cpu = 10): LiveSample => ({
  ts,
  cpu: { total: cpu, user: cpu, system: 0, iowait: 0, steal: 0, perCore: [cpu] },
});

function alert(level: 'warning' | 'critical', hostId: string | null): ServerAlert['alert'] {
  return {
    id: crypto.randomUUID(),
    ruleId: crypto.randomUUID(),
    ruleName: `cpu ${level}`,
    hostId,
    level,
    state: 'firing',
    metric: 'cpu.total',
    value: 97,
    threshold: 90,
    message: `CPU at 97 % (${level})`,
    at: new Date().toISOString(),
  };
}

describe('Tenant Durable Object WebSocket', () => {
  it('greets with hello, answers ping with pong and reports status with subscriptions', async () => {
    const tenantId = newTenant();
    const socket = await connect(tenantId);

    socket.ws.send(JSON.stringify({ type: 'ping', id: 'p1' }));
    expect(await socket.next()).toEqual({ type: 'pong', id: 'p1' });

    const second = await connect(tenantId, 'user:u2');
    socket.ws.send(JSON.stringify({ type: 'subscribe', hosts: ['h1'], streams: ['metrics'] }));
    await socket.next();
    socket.ws.send(JSON.stringify({ type: 'get_status' }));
    expect(await socket.next()).toMatchObject({
      type: 'status',
      connections: 2,
      subscriptions: [{ hosts: ['h1'], streams: ['metrics'] }],
    });
    second.ws.send(JSON.stringify({ type: 'get_status' }));
    expect(await second.next()).toMatchObject({ type: 'status', connections: 2, subscriptions: [] });
  });

  it('answers malformed, unknown and oversize messages with an error and keeps the socket', async () => {
    const socket = await connect(newTenant());

    socket.ws.send('{not json');
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'invalid_message' });

    socket.ws.send(JSON.stringify({ type: 'launch_rockets' }));
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'unknown_type' });

    socket.ws.send(JSON.stringify({ type: 'ping', id: 42 }));
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'invalid_message' });

    socket.ws.send(JSON.stringify({ type: 'subscribe', hosts: [], streams: ['metrics'] }));
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'invalid_message' });

    socket.ws.send(JSON.stringify({ type: 'subscribe', hosts: '*', streams: ['gossip'] }));
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'invalid_message' });

    socket.ws.send(JSON.stringify({ type: 'ping', id: 'x'.repeat(20_000) }));
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'message_too_large' });

    socket.ws.send(new Uint8Array([1, 2, 3]));
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'invalid_message' });

    await socket.expectQuiet();
  });

  it('subscribes, replaces a subscription with the same hosts, and unsubscribes streams and hosts', async () => {
    const socket = await connect(newTenant());
    const send = (m: unknown) => socket.ws.send(JSON.stringify(m));

    send({ type: 'subscribe', id: 's1', hosts: ['a', 'b'], streams: ['metrics', 'events'] });
    expect(await socket.next()).toEqual({
      type: 'subscribed',
      id: 's1',
      subscriptions: [{ hosts: ['a', 'b'], streams: ['metrics', 'events'] }],
    });

    send({ type: 'subscribe', id: 's2', hosts: '*', streams: ['alerts'], filters: { minAlertLevel: 'critical' } });
    expect(await socket.next()).toMatchObject({ id: 's2', subscriptions: [{ hosts: ['a', 'b'] }, { hosts: '*' }] });

    // Same host set (any order): streams and filters are replaced, not added.
    send({ type: 'subscribe', id: 's3', hosts: ['b', 'a'], streams: ['host_status'] });
    expect(await socket.next()).toEqual({
      type: 'subscribed',
      id: 's3',
      subscriptions: [
        { hosts: ['b', 'a'], streams: ['host_status'] },
        { hosts: '*', streams: ['alerts'], filters: { minAlertLevel: 'critical' } },
      ],
    });

    send({ type: 'subscribe', hosts: ['a', 'b'], streams: ['metrics', 'events'] });
    await socket.next();
    // Only metrics of host a go: b keeps both, a keeps events.
    send({ type: 'unsubscribe', id: 'u1', hosts: ['a'], streams: ['metrics'] });
    expect(await socket.next()).toEqual({
      type: 'subscribed',
      id: 'u1',
      subscriptions: [
        { hosts: ['b'], streams: ['metrics', 'events'] },
        { hosts: ['a'], streams: ['events'] },
        { hosts: '*', streams: ['alerts'], filters: { minAlertLevel: 'critical' } },
      ],
    });

    send({ type: 'unsubscribe', id: 'u2', hosts: '*', streams: ['events', 'alerts'] });
    expect(await socket.next()).toEqual({
      type: 'subscribed',
      id: 'u2',
      subscriptions: [{ hosts: ['b'], streams: ['metrics'] }],
    });

    send({ type: 'unsubscribe', hosts: '*' });
    expect(await socket.next()).toEqual({ type: 'subscribed', subscriptions: [] });
  });

  it('refuses more subscriptions than a socket may hold, keeping the ones it has', async () => {
    const socket = await connect(newTenant());
    for (let i = 0; i < MAX_SUBSCRIPTIONS_PER_SOCKET; i++) {
      socket.ws.send(JSON.stringify({ type: 'subscribe', hosts: [`h${i}`], streams: ['metrics'] }));
      expect(await socket.next()).toMatchObject({ type: 'subscribed' });
    }
    socket.ws.send(JSON.stringify({ type: 'subscribe', hosts: ['one-too-many'], streams: ['metrics'] }));
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'too_many_subscriptions' });
    socket.ws.send(JSON.stringify({ type: 'get_status' }));
    const status = await socket.next();
    expect(status.type === 'status' && status.subscriptions?.length).toBe(MAX_SUBSCRIPTIONS_PER_SOCKET);
  });

  it('sends metrics to explicit and "*" subscribers, filters containers, and tells the cadence', async () => {
    const tenantId = newTenant();
    const watcher = await connect(tenantId, 'user:w');
    const everything = await connect(tenantId, 'user:e');
    const other = await connect(tenantId, 'user:o');
    const stub = watcher.stub;

    everything.ws.send(JSON.stringify({ type: 'subscribe', hosts: '*', streams: ['metrics'] }));
    await everything.next();
    expect(await stub.recordBatch({ hostId: 'h1', samples: [live(Date.now())], events: [], idle: IDLE })).toEqual(IDLE);
    expect(await everything.next()).toMatchObject({ type: 'metrics', hostId: 'h1' });

    watcher.ws.send(
      JSON.stringify({ type: 'subscribe', hosts: ['h1'], streams: ['metrics'], filters: { containers: ['api'] } }),
    );
    await watcher.next();
    other.ws.send(JSON.stringify({ type: 'subscribe', hosts: ['h2'], streams: ['metrics'] }));
    await other.next();

    const ts = Date.now();
    const sample: LiveSample = {
      ...live(ts),
      containers: [
        { name: 'web-1', service: 'api', state: 'running' },
        { name: 'db-1', service: 'postgres', state: 'running' },
      ],
    };
    expect(await stub.recordBatch({ hostId: 'h1', samples: [sample], events: [], idle: IDLE })).toEqual(LIVE_CADENCE);
    const filtered = await watcher.next();
    expect(filtered).toMatchObject({ type: 'metrics', hostId: 'h1' });
    expect(filtered.type === 'metrics' && filtered.samples[0]?.containers?.map((c) => c.name)).toEqual(['web-1']);
    const full = await everything.next();
    expect(full.type === 'metrics' && full.samples[0]?.containers?.map((c) => c.name)).toEqual(['web-1', 'db-1']);
    await other.expectQuiet();
    // Without a batch (the Worker answering a retried one): the same answer, and nothing sent.
    expect(await stub.cadenceFor('h1', IDLE)).toEqual(LIVE_CADENCE);
    expect(await stub.cadenceFor('h2', IDLE)).toEqual(LIVE_CADENCE);
    expect(await stub.cadenceFor('h3', IDLE)).toEqual(IDLE);
    await everything.expectQuiet();

    // The only live watcher leaves: back to the idle cadence although "*" still follows h1.
    watcher.ws.send(JSON.stringify({ type: 'unsubscribe', hosts: ['h1'] }));
    await watcher.next();
    expect(await stub.cadenceFor('h1', IDLE)).toEqual(IDLE);
    expect(await stub.recordBatch({ hostId: 'h1', samples: [live(Date.now())], events: [], idle: IDLE })).toEqual(IDLE);
    await watcher.expectQuiet();
  });

  it('shows samples before the commit (showLive), and then records the batch without sending them again', async () => {
    const socket = await connect(newTenant());
    socket.ws.send(JSON.stringify({ type: 'subscribe', hosts: ['h1'], streams: ['metrics', 'host_status'] }));
    await socket.next();
    const ts = Date.now();
    expect(await socket.stub.showLive('h1', 'batch-1', [live(ts)])).toBe(true);
    const shown = await socket.next();
    expect(shown).toMatchObject({ type: 'metrics', hostId: 'h1', samples: [{ ts }] });
    // After the commit: presence and cadence as for any batch, no second metrics frame.
    const cadence = await socket.stub.recordBatch({
      hostId: 'h1',
      samples: [live(ts)],
      events: [],
      idle: IDLE,
      liveShown: true,
    });
    expect(cadence).toEqual(LIVE_CADENCE);
    expect(await socket.next()).toMatchObject({ type: 'host_status', hostId: 'h1', status: 'online' });
    // The agent sends the batch again (its answer was lost): shown once.
    expect(await socket.stub.showLive('h1', 'batch-1', [live(ts)])).toBe(true);
    await socket.expectQuiet();
  });

  it('sends at most the newest samples of a long batch', async () => {
    const socket = await connect(newTenant());
    socket.ws.send(JSON.stringify({ type: 'subscribe', hosts: ['h1'], streams: ['metrics'] }));
    await socket.next();
    const now = Date.now();
    const samples = Array.from({ length: 100 }, (_, i) => live(now - (100 - i) * 1000, i));
    await socket.stub.recordBatch({ hostId: 'h1', samples, events: [], idle: IDLE });
    const message = await socket.next();
    expect(message.type === 'metrics' && message.samples.length).toBe(30);
    expect(message.type === 'metrics' && message.samples.at(-1)?.ts).toBe(now - 1000);
  });

  it('sends events honoring eventKinds, and alerts honoring minAlertLevel', async () => {
    const socket = await connect(newTenant());
    const send = (m: unknown) => socket.ws.send(JSON.stringify(m));
    send({ type: 'subscribe', hosts: ['h1'], streams: ['events'], filters: { eventKinds: ['job.failed'] } });
    await socket.next();
    send({ type: 'subscribe', hosts: '*', streams: ['alerts'], filters: { minAlertLevel: 'critical' } });
    await socket.next();

    const ts = Date.now();
    await socket.stub.recordBatch({
      hostId: 'h1',
      samples: [],
      events: [
        { ts, kind: 'job.started', id: 'job-1' },
        { ts, kind: 'job.failed', id: 'job-1', message: 'exit 2' },
      ],
      idle: IDLE,
    });
    expect(await socket.next()).toEqual({
      type: 'event',
      seq: expect.any(Number),
      hostId: 'h1',
      event: { ts, kind: 'job.failed', id: 'job-1', message: 'exit 2' },
    });
    await socket.expectQuiet();

    expect(await socket.stub.publishAlert(alert('warning', 'h1'))).toBe(0);
    const critical = alert('critical', 'h9');
    expect(await socket.stub.publishAlert(critical)).toBe(1);
    expect(await socket.next()).toEqual({ type: 'alert', seq: expect.any(Number), alert: critical });
    await socket.expectQuiet();
  });

  it('rate-limits a flooding client, then closes it with 1008', async () => {
    const socket = await connect(newTenant());
    const total = FLOOD.BURST + FLOOD.MAX_DEBT + 200;
    for (let i = 0; i < total; i++) socket.ws.send(JSON.stringify({ type: 'ping', id: `f${i}` }));
    const seen: string[] = [];
    for (;;) {
      const pending = socket.next();
      pending.catch(() => undefined); // the close may win the race; its timeout must not go unhandled
      const message = await Promise.race([pending, socket.closed.then(() => null)]);
      if (!message) break;
      seen.push(message.type === 'error' ? message.code : message.type);
    }
    expect(seen.filter((t) => t === 'pong').length).toBeGreaterThanOrEqual(FLOOD.BURST);
    expect(seen.filter((t) => t === 'pong').length).toBeLessThan(total);
    expect(seen).toContain('rate_limited');
    expect(await socket.closed).toMatchObject({ code: 1008 });
  });

  it('refuses connections over the per-principal and per-tenant limits', async () => {
    const tenantId = newTenant();
    const stub = stubFor(tenantId);
    const attempt = (principal: string) =>
      stub.fetch('http://tenant/connect', {
        headers: {
          Upgrade: 'websocket',
          [TENANT_HEADER]: tenantId,
          [PRINCIPAL_HEADER]: principal,
          [ROLE_HEADER]: 'viewer',
          'X-Pulsewire-Max-Tenant-Connections': '3',
          'X-Pulsewire-Max-Principal-Connections': '2',
        },
      });
    acceptSocket(await attempt('user:a'), open);
    acceptSocket(await attempt('user:a'), open);
    const third = await attempt('user:a');
    expect(third.status).toBe(429);
    expect(await third.json()).toMatchObject({ error: { code: 'too_many_connections' } });
    acceptSocket(await attempt('user:b'), open);
    const overTenant = await attempt('user:c');
    expect(overTenant.status).toBe(429);
  });

  it('keeps the connection, its subscriptions and its watch across eviction', async () => {
    const tenantId = newTenant();
    const socket = await connect(tenantId);
    socket.ws.send(JSON.stringify({ type: 'subscribe', hosts: ['h1'], streams: ['metrics'] }));
    await socket.next();
    await evictDurableObject(socket.stub);

    socket.ws.send(JSON.stringify({ type: 'ping', id: 'after-eviction' }));
    expect(await socket.next()).toEqual({ type: 'pong', id: 'after-eviction' });
    await evictDurableObject(socket.stub);
    // A fresh instance learns the watch from the socket's attachment.
    expect(
      await socket.stub.recordBatch({ hostId: 'h1', samples: [live(Date.now())], events: [], idle: IDLE }),
    ).toEqual(LIVE_CADENCE);
    expect(await socket.next()).toMatchObject({ type: 'metrics', hostId: 'h1' });
    socket.ws.send(JSON.stringify({ type: 'get_status' }));
    expect(await socket.next()).toMatchObject({ type: 'status', connections: 1, subscriptions: [{ hosts: ['h1'] }] });
  });

  it("closes a user's sockets with 4001 when told to disconnect them, leaving others open", async () => {
    const tenantId = newTenant();
    const gone = await connect(tenantId, 'user:gone');
    const stays = await connect(tenantId, 'user:stays');
    expect(await gone.stub.disconnect({ kind: 'user', id: 'gone' })).toBe(1);
    expect(await gone.closed).toMatchObject({ code: 4001 });
    await stays.expectQuiet();
  });

  it('closes a socket whose state is lost or corrupt instead of serving it', async () => {
    const socket = await connect(newTenant());
    await runInDurableObject(socket.stub, (_instance, state) => {
      for (const ws of state.getWebSockets()) ws.serializeAttachment({ connectionId: 'forged', subscriptions: '*' });
    });
    socket.ws.send(JSON.stringify({ type: 'ping', id: 'p' }));
    expect(await socket.closed).toMatchObject({ code: 1011 });
  });

  it('refuses requests that are not WebSocket upgrades, or lack the trusted headers', async () => {
    const stub = stubFor('plain-http');
    expect((await stub.fetch('http://tenant/connect')).status).toBe(426);
    const anonymous = await stub.fetch('http://tenant/connect', {
      headers: { Upgrade: 'websocket', [TENANT_HEADER]: 't' },
    });
    expect(anonymous.status).toBe(400);
  });
});

describe('host status decided by alarms', () => {
  it('announces online, then stale and offline as the alarm fires, and online again on the next batch', async () => {
    const tenantId = newTenant();
    const socket = await connect(tenantId);
    socket.ws.send(JSON.stringify({ type: 'subscribe', hosts: '*', streams: ['host_status'] }));
    await socket.next();

    // Idle push interval 30 s: online up to 75 s of silence. Last sample 73 s ago → stale in ~2 s.
    const lastSeen = Date.now() - 73_000;
    await socket.stub.recordBatch({ hostId: 'h1', samples: [live(lastSeen)], events: [], idle: IDLE });
    expect(await socket.next()).toMatchObject({ type: 'host_status', hostId: 'h1', status: 'online', previous: null });
    expect(await socket.next(10_000)).toMatchObject({
      type: 'host_statuses',
      statuses: [{ hostId: 'h1', status: 'stale', previous: 'online', lastSeenAt: new Date(lastSeen).toISOString() }],
    });

    // Evicted meanwhile: presence comes back from storage. Offline at 120 s: force it with an old sample on h2.
    await evictDurableObject(socket.stub);
    await socket.stub.recordBatch({ hostId: 'h2', samples: [live(Date.now() - 119_000)], events: [], idle: IDLE });
    expect(await socket.next()).toMatchObject({ hostId: 'h2', status: 'stale', previous: null });
    expect(await socket.next(10_000)).toMatchObject({
      type: 'host_statuses',
      statuses: [{ hostId: 'h2', status: 'offline', previous: 'stale' }],
    });

    await socket.stub.recordBatch({ hostId: 'h2', samples: [live(Date.now())], events: [], idle: IDLE });
    expect(await socket.next()).toMatchObject({ hostId: 'h2', status: 'online', previous: 'offline' });
    // h1 still stale: no alarm reports anything new for it now.
    expect(await runDurableObjectAlarm(socket.stub)).toBe(true);
    await socket.expectQuiet();
  });

  it('writes presence on status and cadence changes, not on every batch', async () => {
    const stub = stubFor(newTenant());
    const first = Date.now() - 20_000;
    const stored = () => runInDurableObject(stub, (_, state) => state.storage.get<{ lastSeen: number }>('presence:h1'));
    for (let i = 0; i < 5; i++) {
      await stub.recordBatch({ hostId: 'h1', samples: [live(first + i * 1000)], events: [], idle: IDLE });
    }
    // Online since the first batch: the four after it cost no storage write.
    expect(await stored()).toMatchObject({ lastSeen: first, status: 'online', pushIntervalMs: IDLE.pushIntervalMs });
    // A new cadence is written at once (the status rule depends on it).
    await stub.recordBatch({
      hostId: 'h1',
      samples: [live(first + 6000)],
      events: [],
      idle: { ...IDLE, pushIntervalMs: 60_000 },
    });
    expect(await stored()).toMatchObject({ lastSeen: first + 6000, pushIntervalMs: 60_000 });
  });

  it('sends host_status only to subscribers of that host, with a snapshot on subscribe', async () => {
    const tenantId = newTenant();
    const a = await connect(tenantId, 'user:a');
    const b = await connect(tenantId, 'user:b');
    await a.stub.recordBatch({ hostId: 'h1', samples: [live(Date.now())], events: [], idle: IDLE });
    a.ws.send(JSON.stringify({ type: 'subscribe', hosts: ['h1'], streams: ['host_status'] }));
    expect(await a.next()).toMatchObject({ type: 'subscribed' });
    expect(await a.next()).toMatchObject({ type: 'host_statuses', statuses: [{ hostId: 'h1', status: 'online' }] });
    b.ws.send(JSON.stringify({ type: 'subscribe', hosts: ['h2'], streams: ['host_status', 'metrics'] }));
    expect(await b.next()).toMatchObject({ type: 'subscribed' });

    await a.stub.recordBatch({ hostId: 'h1', samples: [live(Date.now() - 119_000)], events: [], idle: IDLE });
    await a.stub.recordBatch({ hostId: 'h3', samples: [live(Date.now() - 100_000)], events: [], idle: IDLE });
    await b.expectQuiet();
    await a.expectQuiet();
  });

  it('does not call a live host stale after a few seconds of silence', async () => {
    const tenantId = newTenant();
    const socket = await connect(tenantId);
    socket.ws.send(JSON.stringify({ type: 'subscribe', hosts: ['h1'], streams: ['host_status', 'metrics'] }));
    await socket.next();
    // Watched live: told to push every second. 4 s of silence is a hiccup, not staleness.
    const cadence = await socket.stub.recordBatch({
      hostId: 'h1',
      samples: [live(Date.now() - 4_000)],
      events: [],
      idle: IDLE,
    });
    expect(cadence).toEqual(LIVE_CADENCE);
    expect(await socket.next()).toMatchObject({ type: 'host_status', status: 'online' });
    expect(await socket.next()).toMatchObject({ type: 'metrics' });
    expect(await runDurableObjectAlarm(socket.stub)).toBe(true);
    await socket.expectQuiet();
    // 13 s of silence at a 1 s cadence is stale (floor 5 s × 2.5).
    await socket.stub.recordBatch({
      hostId: 'h9',
      samples: [live(Date.now() - 13_000)],
      events: [],
      idle: LIVE_CADENCE,
    });
    socket.ws.send(JSON.stringify({ type: 'subscribe', hosts: ['h9'], streams: ['host_status'] }));
    await socket.next();
    expect(await socket.next()).toMatchObject({ type: 'host_statuses', statuses: [{ hostId: 'h9', status: 'stale' }] });
  });

  it('gives a tenant of 5,000 hosts its snapshot and a mass status change in pages, without closing the socket', async () => {
    const tenantId = newTenant();
    const socket = await connect(tenantId);
    const hosts = Array.from({ length: 5000 }, (_, i) => `host-${i}`);
    // Every host last seen 74 s ago at the idle cadence: online now, stale at 75 s.
    const lastSeen = Date.now() - 74_000;
    await runInDurableObject(socket.stub, async (_object, state) => {
      for (let i = 0; i < hosts.length; i += 128) {
        const entries: Record<string, unknown> = {};
        for (const id of hosts.slice(i, i + 128)) {
          entries[`presence:${id}`] = { lastSeen, pushIntervalMs: 30_000, status: 'online' };
        }
        await state.storage.put(entries);
      }
      await state.storage.setAlarm(lastSeen + 75_100);
    });
    socket.ws.send(JSON.stringify({ type: 'subscribe', hosts: '*', streams: ['host_status'] }));
    expect(await socket.next()).toMatchObject({ type: 'subscribed' });
    const snapshot: string[] = [];
    for (let page = 0; page < 5; page++) {
      const message = await socket.next();
      if (message.type !== 'host_statuses') throw new Error(`expected host_statuses, got ${message.type}`);
      snapshot.push(...message.statuses.map((s) => (s.status === 'online' ? s.hostId : 'wrong')));
    }
    expect(snapshot.sort()).toEqual([...hosts].sort());
    await socket.expectQuiet(); // not closed as a slow consumer, although it acked nothing

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, lastSeen + 75_100 - Date.now())));
    expect(await runDurableObjectAlarm(socket.stub)).toBe(true);
    const stale: string[] = [];
    for (let page = 0; page < 5; page++) {
      const message = await socket.next();
      if (message.type !== 'host_statuses') throw new Error(`expected host_statuses, got ${message.type}`);
      stale.push(
        ...message.statuses.filter((s) => s.status === 'stale' && s.previous === 'online').map((s) => s.hostId),
      );
    }
    expect(stale).toHaveLength(5000);
    await socket.expectQuiet();
  });
});

describe('flow control: seq on data frames, acks, slow consumers', () => {
  const jobs = (n: number, from: number): AppEvent[] =>
    Array.from({ length: n }, (_, i) => ({ ts: Date.now(), kind: 'job.progress', id: `job-${from + i}` }));
  /** 30 samples of 400 cores: a metrics frame of about 200 KB. */
  const bigSamples = (now: number): LiveSample[] => {
    const perCore = Array.from({ length: 400 }, (_, i) => 10 + i / 7);
    return Array.from({ length: 30 }, (_, i) => ({
      ts: now - (30 - i) * 1000,
      cpu: { total: 50, user: 25, system: 25, iowait: 0, steal: 0, perCore },
    }));
  };
  const seqOf = (m: ServerMessage | undefined) => (m && 'seq' in m ? m.seq : undefined);

  async function take(socket: SocketQueue, n: number): Promise<ServerMessage[]> {
    const messages: ServerMessage[] = [];
    for (let i = 0; i < n; i++) messages.push(await socket.next());
    return messages;
  }

  /** Acknowledges the newest frame, and waits until the object has taken the ack (a pong comes after it). */
  async function ack(socket: SocketQueue, messages: ServerMessage[]): Promise<void> {
    socket.ws.send(JSON.stringify({ type: 'ack', seq: seqOf(messages.at(-1)) }));
    await socket.expectQuiet();
  }

  /** Everything a socket receives until the server closes it, then the close. */
  async function drainUntilClosed(socket: SocketQueue) {
    const messages: ServerMessage[] = [];
    for (;;) {
      const pending = socket.next();
      pending.catch(() => undefined); // the close may win the race
      const message = await Promise.race([pending, socket.closed.then(() => null)]);
      if (!message) return { messages, close: await socket.closed };
      messages.push(message);
    }
  }

  async function subscribeTo(socket: SocketQueue, hosts: '*' | string[], streams: string[]) {
    socket.ws.send(JSON.stringify({ type: 'subscribe', hosts, streams }));
    expect(await socket.next()).toMatchObject({ type: 'subscribed' });
  }

  it('announces the bounds in hello and stamps data frames with a seq rising on each socket, across eviction', async () => {
    const tenantId = newTenant();
    const a = await connect(tenantId, 'user:a');
    expect(a.hello).toMatchObject({
      flow: { maxUnackedFrames: MAX_UNACKED_FRAMES, maxUnackedBytes: MAX_UNACKED_BYTES },
    });
    const b = await connect(tenantId, 'user:b');
    const all = ['metrics', 'events', 'host_status', 'alerts'];
    await subscribeTo(a, ['h1'], all);
    await subscribeTo(b, '*', all);

    await a.stub.recordBatch({ hostId: 'h1', samples: [live(Date.now())], events: jobs(3, 0), idle: IDLE });
    await a.stub.publishAlert(alert('critical', 'h1'));
    const toA = await take(a, 6);
    expect(toA.map((m) => m.type)).toEqual(['host_status', 'metrics', 'event', 'event', 'event', 'alert']);
    const seqs = toA.map(seqOf) as number[];
    for (const [i, seq] of seqs.entries()) {
      expect(seq).toEqual(expect.any(Number));
      if (i > 0) expect(seq).toBeGreaterThan(seqs[i - 1] as number);
    }
    // One object-wide counter: the other socket got the same frames under the same seqs.
    expect((await take(b, 6)).map(seqOf)).toEqual(seqs);

    // A fresh instance (memory wiped) starts its counter from the clock, above every earlier seq. A real
    // wake-up comes after seconds of idleness; a few milliseconds are enough for the clock to move on.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await evictDurableObject(a.stub);
    await a.stub.recordBatch({ hostId: 'h1', samples: [live(Date.now())], events: [], idle: IDLE });
    const afterWake = await a.next();
    expect(afterWake.type).toBe('metrics');
    expect(seqOf(afterWake)).toBeGreaterThan(seqs.at(-1) as number);
    // Frames without data carry none.
    a.ws.send(JSON.stringify({ type: 'get_status' }));
    expect(seqOf(await a.next())).toBeUndefined();
  });

  it('closes a socket that never acks with slow_consumer and 1013 past the frame bound; an acking one gets every batch', async () => {
    const tenantId = newTenant();
    const slow = await connect(tenantId, 'user:slow');
    const keen = await connect(tenantId, 'user:keen');
    await subscribeTo(slow, ['h1'], ['events']);
    await subscribeTo(keen, ['h1'], ['events']);

    const perBatch = MAX_LIVE_EVENTS_PER_BATCH;
    const batches = MAX_UNACKED_FRAMES / perBatch + 2; // the bound is passed in the next to last
    for (let b = 0; b < batches; b++) {
      const events = jobs(perBatch, b * perBatch);
      await keen.stub.recordBatch({ hostId: 'h1', samples: [], events, idle: IDLE });
      const received = await take(keen, perBatch);
      expect(received.map((m) => m.type === 'event' && m.event.id)).toEqual(events.map((e) => e.id));
      await ack(keen, received);
    }

    const { messages, close } = await drainUntilClosed(slow);
    expect(messages.filter((m) => m.type === 'event')).toHaveLength(MAX_UNACKED_FRAMES);
    expect(messages.at(-1)).toMatchObject({ type: 'error', code: 'slow_consumer' });
    expect(messages).toHaveLength(MAX_UNACKED_FRAMES + 1);
    expect(close).toEqual({ code: 1013, reason: 'too slow: acknowledge frames' });

    // The slow socket is forgotten; the other one goes on.
    await keen.stub.recordBatch({ hostId: 'h1', samples: [], events: jobs(1, 9999), idle: IDLE });
    expect(await keen.next()).toMatchObject({ type: 'event', event: { id: 'job-9999' } });
    keen.ws.send(JSON.stringify({ type: 'get_status' }));
    expect(await keen.next()).toMatchObject({ type: 'status', connections: 1 });
  });

  it('closes a socket that never acks past the byte bound, however few frames that is', async () => {
    const tenantId = newTenant();
    const slow = await connect(tenantId, 'user:slow');
    const keen = await connect(tenantId, 'user:keen');
    await subscribeTo(slow, ['h1'], ['metrics']);
    await subscribeTo(keen, ['h1'], ['metrics']);

    for (let b = 0; b < 8; b++) {
      await keen.stub.recordBatch({ hostId: 'h1', samples: bigSamples(Date.now()), events: [], idle: IDLE });
      const received = await take(keen, 1);
      expect(received[0]).toMatchObject({ type: 'metrics', hostId: 'h1' });
      await ack(keen, received);
    }

    const { messages, close } = await drainUntilClosed(slow);
    const frames = messages.filter((m) => m.type === 'metrics');
    // Every frame has the same size; the schema keeps the server's key order, so this is the size sent.
    const size = new TextEncoder().encode(JSON.stringify(frames[0])).byteLength;
    expect(size).toBeGreaterThan(100_000);
    expect(frames).toHaveLength(Math.floor(MAX_UNACKED_BYTES / size));
    expect(messages.at(-1)).toMatchObject({ type: 'error', code: 'slow_consumer' });
    expect(close).toMatchObject({ code: 1013 });
  });

  it('closes a client that acks frames it was never sent (acking without reading) with invalid_ack and 1008', async () => {
    const tenantId = newTenant();
    const liar = await connect(tenantId, 'user:liar');
    await subscribeTo(liar, ['h1'], ['events']);
    await liar.stub.recordBatch({ hostId: 'h1', samples: [], events: jobs(3, 0), idle: IDLE });
    // It reads nothing, and claims to have everything up to a seq far past what it was sent.
    liar.ws.send(JSON.stringify({ type: 'ack', seq: Number.MAX_SAFE_INTEGER }));
    const { messages, close } = await drainUntilClosed(liar);
    expect(messages.filter((m) => m.type === 'event')).toHaveLength(3);
    expect(messages.at(-1)).toMatchObject({ type: 'error', code: 'invalid_ack' });
    expect(close).toEqual({ code: 1008, reason: 'acknowledged frames it was not sent' });
  });

  it('never closes a socket that acks as it reads, over several times both bounds', async () => {
    const socket = await connect(newTenant());
    await subscribeTo(socket, ['h1'], ['metrics', 'events']);
    const perBatch = MAX_LIVE_EVENTS_PER_BATCH;
    const batches = 30; // 3030 frames, about 6 MB
    let unacked: ServerMessage[] = [];
    for (let b = 0; b < batches; b++) {
      const events = jobs(perBatch, b * perBatch);
      await socket.stub.recordBatch({ hostId: 'h1', samples: bigSamples(Date.now()), events, idle: IDLE });
      const received = await take(socket, perBatch + 1);
      expect(received[0]).toMatchObject({ type: 'metrics' });
      expect(received.at(-1)).toMatchObject({ type: 'event', event: { id: events.at(-1)?.id } });
      unacked = [...unacked, ...received];
      // Every other batch (202 frames): a client acks sooner, once 32 frames or 64 KiB wait (protocol/src/stream-ack.ts).
      if (b % 2 === 1) {
        await ack(socket, unacked);
        unacked = [];
      }
    }
    await socket.expectQuiet();
    const stillOpen = await Promise.race([socket.closed.then(() => false), Promise.resolve(true)]);
    expect(stillOpen).toBe(true);
  });
});
