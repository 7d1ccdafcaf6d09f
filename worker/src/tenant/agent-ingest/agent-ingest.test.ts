import { runInDurableObject } from 'cloudflare:test';
import { CONTROL_CLOSE, type ControlServerMessage, IngestResponse } from '@pulsewire/protocol';
import { and, count, eq } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ownerWithIngestKey, sample, TestAgent } from '../../../test/agent.ts';
import type { TestClient } from '../../../test/client.ts';
import { type ControlQueue, connectControl, controlBatch } from '../../../test/control.ts';
import { isolatedEnv, objectUsesDatabase, withDatabase } from '../../../test/support.ts';
import { appEvents, customMetricPoints, hostSamples, hosts, ingestBatches } from '../../db/schema.ts';
import type { Env } from '../../env.ts';
import { agentTag, readAgentAttachment } from '../agent-control.ts';
import { acceptSocket, closeAll } from '../test-sockets.ts';

const open: WebSocket[] = [];
afterEach(() => closeAll(open));

/** The answer to one batch: the next message that is not a cadence. */
async function answer(control: ControlQueue): Promise<ControlServerMessage> {
  for (;;) {
    const message = await control.next();
    if (message.type !== 'cadence') return message;
  }
}

/** Sends `message` and expects a `nack` for it. */
async function nackTo(control: ControlQueue, message: unknown) {
  control.ws.send(JSON.stringify(message));
  const reply = await answer(control);
  expect(reply.type).toBe('nack');
  return reply.type === 'nack' ? reply : undefined;
}

async function storedCounts(env: Env, hostId: string) {
  return withDatabase(env, async (db) => {
    const [samples] = await db.select({ n: count() }).from(hostSamples).where(eq(hostSamples.hostId, hostId));
    const [batches] = await db.select({ n: count() }).from(ingestBatches).where(eq(ingestBatches.hostId, hostId));
    const [host] = await db.select({ lastSeq: hosts.lastSeq }).from(hosts).where(eq(hosts.id, hostId));
    return { samples: samples?.n ?? 0, batches: batches?.n ?? 0, lastSeq: host?.lastSeq };
  });
}

describe('stored batches over the control socket', () => {
  let env: Env;
  let owner: TestClient;
  let ingestKey: string;
  const enroll = async (name: string) => {
    const agent = await TestAgent.enroll(env, ingestKey, crypto.randomUUID(), name);
    await objectUsesDatabase(env, agent.tenantId);
    return agent;
  };
  beforeAll(async () => {
    env = await isolatedEnv();
    ({ owner, ingestKey } = await ownerWithIngestKey(env, 'socket-ingest'));
  });

  it('stores a batch once, acknowledges it after the commit, and shows it to a watching dashboard', async () => {
    const agent = await enroll('socket-stored');
    const control = await connectControl(env, agent, open);
    expect(await control.next()).toMatchObject({ type: 'cadence' });
    const dashboard = acceptSocket(
      await owner.request('GET', '/api/v1/stream', undefined, { Upgrade: 'websocket' }),
      open,
    );
    expect(await dashboard.next()).toMatchObject({ type: 'hello' });
    dashboard.ws.send(JSON.stringify({ type: 'subscribe', hosts: [agent.hostId], streams: ['metrics', 'events'] }));
    expect(await dashboard.next()).toMatchObject({ type: 'subscribed' });
    expect(await control.next()).toMatchObject({ type: 'cadence', cadence: { live: true } });

    const now = Date.now();
    const batch = agent.batch([sample(now - 2000), sample(now - 1000, 40)], {
      metrics: [{ name: 'queue.depth', kind: 'gauge', value: 7, ts: now, labels: { queue: 'mail' } }],
      events: [{ ts: now, kind: 'job.progress', id: 'job-42', name: 'backup', progress: 0.5 }],
    });
    control.ws.send(JSON.stringify(await controlBatch(agent, batch)));
    expect(await answer(control)).toEqual({ type: 'ack', batch_id: batch.batch_id, accepted: 4, duplicate: false });
    const frames = [await dashboard.next(), await dashboard.next()];
    expect(frames.map((f) => f.type).sort()).toEqual(['event', 'metrics']);
    expect(frames.find((f) => f.type === 'metrics')).toMatchObject({
      hostId: agent.hostId,
      samples: [{ ts: now - 2000 }, { ts: now - 1000, cpu: { total: 40 } }],
    });
    const stored = await withDatabase(env, async (db) => ({
      samples: await db.select().from(hostSamples).where(eq(hostSamples.hostId, agent.hostId)),
      metrics: await db.select().from(customMetricPoints).where(eq(customMetricPoints.hostId, agent.hostId)),
      events: await db.select().from(appEvents).where(eq(appEvents.hostId, agent.hostId)),
      host: (await db.select().from(hosts).where(eq(hosts.id, agent.hostId)))[0],
    }));
    expect(stored.samples.map((s) => s.ts.getTime()).sort()).toEqual([now - 2000, now - 1000]);
    expect(stored.samples[0]?.tenantId).toBe(agent.tenantId);
    expect(stored.metrics).toMatchObject([{ name: 'queue.depth', value: 7, labels: { queue: 'mail' } }]);
    expect(stored.events).toMatchObject([{ kind: 'job.progress', subjectId: 'job-42' }]);
    expect(stored.host?.lastSeq).toBe(batch.seq);
    expect(stored.host?.lastSeenAt?.getTime()).toBeGreaterThanOrEqual(now - 1000);

    // The same batch again, on the socket or over HTTP: acknowledged as a duplicate, stored once, not shown twice.
    control.ws.send(JSON.stringify(await controlBatch(agent, batch)));
    expect(await answer(control)).toEqual({ type: 'ack', batch_id: batch.batch_id, accepted: 0, duplicate: true });
    const viaHttp = IngestResponse.parse(await (await agent.push(batch)).json());
    expect(viaHttp).toMatchObject({ accepted: 0, duplicate: true });
    await dashboard.expectQuiet();
    expect(await storedCounts(env, agent.hostId)).toEqual({ samples: 2, batches: 1, lastSeq: batch.seq });
  });

  it('stores many batches of several hosts sent at once, each answered, none lost or doubled', async () => {
    const agents = [await enroll('burst-a'), await enroll('burst-b')];
    const controls = await Promise.all(agents.map((agent) => connectControl(env, agent, open)));
    for (const control of controls) await control.next();
    const start = Date.now() - 60_000;
    const sent = await Promise.all(
      agents.map(async (agent, a) => {
        const batches = Array.from({ length: 20 }, (_, i) => agent.batch([sample(start + i * 1000)]));
        const messages = await Promise.all(batches.map((batch) => controlBatch(agent, batch)));
        for (const message of messages) controls[a]?.ws.send(JSON.stringify(message));
        return batches;
      }),
    );
    for (const [a, control] of controls.entries()) {
      const answers = [];
      for (let i = 0; i < 20; i++) answers.push(await answer(control));
      expect(answers.every((m) => m.type === 'ack' && m.accepted === 1 && !m.duplicate)).toBe(true);
      expect(new Set(answers.map((m) => (m.type === 'ack' ? m.batch_id : '')))).toEqual(
        new Set(sent[a]?.map((b) => b.batch_id)),
      );
      expect(await storedCounts(env, agents[a]?.hostId as string)).toEqual({ samples: 20, batches: 20, lastSeq: 20 });
    }
  });

  it('refuses what an HTTP push would refuse, with its status and code, and writes nothing', async () => {
    const agent = await enroll('socket-refused');
    const other = await enroll('socket-other');
    const control = await connectControl(env, agent, open);
    await control.next();
    const now = Date.now();
    const nackOf = (message: unknown) => nackTo(control, message);

    const tampered = await controlBatch(agent, agent.batch([sample(now)]));
    expect(await nackOf({ ...tampered, body: tampered.body.replace('12.5', '99.5') })).toMatchObject({
      status: 401,
      error: { code: 'bad_signature' },
    });
    const stale = agent.batch([sample(now)]);
    expect(await nackOf(await controlBatch(agent, stale, { timestamp: now - 10 * 60_000 }))).toMatchObject({
      batch_id: stale.batch_id,
      status: 401,
      error: { code: 'stale_timestamp' },
    });
    // Signed by another enrolled host, with its own valid key: this socket speaks for one host only.
    const foreign = other.batch([sample(now)], { host_id: other.hostId });
    expect(await nackOf(await controlBatch(other, foreign))).toMatchObject({
      status: 401,
      error: { code: 'bad_signature' },
    });
    expect(await nackOf(await controlBatch(agent, agent.batch([{ ...sample(now), ts: 12 }])))).toMatchObject({
      status: 422,
      error: { code: 'validation_failed', path: 'samples.0.ts' },
    });
    const mismatched = agent.batch([sample(now)]);
    expect(
      await nackOf(
        await controlBatch(agent, mismatched, {
          body: JSON.stringify({ ...mismatched, batch_id: crypto.randomUUID() }),
        }),
      ),
    ).toMatchObject({ status: 400, error: { code: 'bad_request' } });
    expect(await nackOf(await controlBatch(agent, agent.batch([sample(now)]), { body: '{"not": json' }))).toMatchObject(
      {
        status: 400,
        error: { code: 'invalid_json' },
      },
    );
    expect(await storedCounts(env, agent.hostId)).toMatchObject({ samples: 0, batches: 0 });

    // A seq another batch used: 409 with the seq to go past, as over HTTP.
    const first = agent.batch([sample(now - 5000)]);
    control.ws.send(JSON.stringify(await controlBatch(agent, first)));
    expect(await answer(control)).toMatchObject({ type: 'ack', accepted: 1 });
    const replayed = agent.batch([sample(now - 4000)], { seq: first.seq });
    expect(await nackOf(await controlBatch(agent, replayed))).toMatchObject({
      status: 409,
      error: { code: 'replayed_seq', lastSeq: first.seq },
    });
    expect(await storedCounts(env, agent.hostId)).toMatchObject({ samples: 1, batches: 1 });
  });

  it("refuses hostile values in a batch message with the push's codes, writes nothing of them, and drops items from the future", async () => {
    const agent = await enroll('socket-hostile');
    const control = await connectControl(env, agent, open);
    await control.next();
    const now = Date.now();
    const nackOf = (message: unknown) => nackTo(control, message);
    // Unstorable text in the batch (Postgres refuses NUL and lone surrogates): 422 naming the field, not a 500.
    for (const name of ['bad\u0000name', 'half \ud800 pair']) {
      const batch = agent.batch([{ ...sample(now), temps: [{ label: name, c: 40 }] }]);
      expect(await nackOf(await controlBatch(agent, batch))).toMatchObject({
        status: 422,
        error: { code: 'validation_failed', path: 'samples.0.temps.0.label' },
      });
    }
    // A temperature out of its range, a count far too large.
    const hot = agent.batch([{ ...sample(now), temps: [{ label: 'cpu', c: 1e300 }] }]);
    expect(await nackOf(await controlBatch(agent, hot))).toMatchObject({ status: 422 });
    const many = agent.batch(Array.from({ length: 301 }, (_, i) => sample(now - 1000 - i)));
    expect(await nackOf(await controlBatch(agent, many))).toMatchObject({ status: 422, error: { path: 'samples' } });
    // Hostile signed headers: a batch id with NUL, a lone surrogate, a timestamp decades away.
    const plain = agent.batch([sample(now)]);
    const signed = await controlBatch(agent, plain);
    for (const id of ['x\u0000y', '\udc00']) {
      expect(await nackOf({ ...signed, headers: { ...signed.headers, 'x-pulsewire-batch': id } })).toMatchObject({
        batch_id: id,
        status: 401,
        error: { code: 'bad_signature' },
      });
    }
    expect(await nackOf(await controlBatch(agent, plain, { timestamp: now + 40 * 365 * 86_400_000 }))).toMatchObject({
      status: 401,
      error: { code: 'stale_timestamp' },
    });
    expect(await storedCounts(env, agent.hostId)).toMatchObject({ samples: 0, batches: 0 });

    // A sample stamped an hour after the signature is left out; the rest of the batch is stored.
    const mixed = agent.batch([sample(now - 1000), sample(now + 3_600_000)]);
    control.ws.send(JSON.stringify(await controlBatch(agent, mixed)));
    expect(await answer(control)).toEqual({ type: 'ack', batch_id: mixed.batch_id, accepted: 1, duplicate: false });
    expect(await storedCounts(env, agent.hostId)).toMatchObject({ samples: 1, batches: 1 });

    // Not a batch at all (no signed headers to answer by): the socket is closed, as for any stray message.
    control.ws.send(JSON.stringify({ type: 'batch', body: '{}' }));
    expect((await control.closed).code).toBe(CONTROL_CLOSE.unexpected);
  });

  it("refuses a host revoked behind the object's back, and asks a socket accepted without a key to reconnect", async () => {
    const agent = await enroll('socket-revoked');
    const control = await connectControl(env, agent, open);
    await control.next();
    // Revoked in the database only (as if the call telling the object had failed): the commit still refuses it.
    await withDatabase(env, (db) => db.update(hosts).set({ revokedAt: new Date() }).where(eq(hosts.id, agent.hostId)));
    control.ws.send(JSON.stringify(await controlBatch(agent, agent.batch([sample(Date.now())]))));
    expect(await answer(control)).toMatchObject({ type: 'nack', status: 403, error: { code: 'host_revoked' } });
    const [written] = await withDatabase(env, (db) =>
      db
        .select({ n: count() })
        .from(ingestBatches)
        .where(and(eq(ingestBatches.hostId, agent.hostId))),
    );
    expect(written?.n).toBe(0);

    const old = await enroll('socket-old');
    const oldControl = await connectControl(env, old, open);
    await oldControl.next();
    await runInDurableObject(env.TENANT.get(env.TENANT.idFromName(old.tenantId)), (_instance, state) => {
      const [ws] = state.getWebSockets(agentTag(old.hostId));
      const attachment = ws && readAgentAttachment(ws);
      if (!ws || !attachment) throw new Error('no agent socket');
      const { publicKey: _key, origin: _origin, ...before } = attachment;
      ws.serializeAttachment(before);
    });
    oldControl.ws.send(JSON.stringify(await controlBatch(old, old.batch([sample(Date.now())]))));
    expect((await oldControl.closed).code).toBe(CONTROL_CLOSE.reconnect);
  });
});
