import { ApiErrorBody, CreatedApiKey, IngestResponse } from '@pulsewire/protocol';
import { count, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { enrollRequest, FACTS, ownerWithIngestKey, sample, TestAgent } from '../../test/agent.ts';
import { isolatedEnv } from '../../test/support.ts';
import { openDatabase } from '../db/client.ts';
import { appEvents, customMetricPoints, hostSamples, hosts, ingestBatches } from '../db/schema.ts';
import { type Env, parseConfig } from '../env.ts';

const errorOf = async (res: Response) => ApiErrorBody.parse(await res.json()).error;

async function rowCounts(env: Env, hostId: string) {
  const handle = openDatabase(parseConfig(env));
  try {
    const [samples] = await handle.db.select({ n: count() }).from(hostSamples).where(eq(hostSamples.hostId, hostId));
    const [batches] = await handle.db
      .select({ n: count() })
      .from(ingestBatches)
      .where(eq(ingestBatches.hostId, hostId));
    return { samples: samples?.n ?? 0, batches: batches?.n ?? 0 };
  } finally {
    await handle.close();
  }
}

async function withDb<T>(env: Env, fn: (db: ReturnType<typeof openDatabase>['db']) => Promise<T>): Promise<T> {
  const handle = openDatabase(parseConfig(env));
  try {
    return await fn(handle.db);
  } finally {
    await handle.close();
  }
}

describe('POST /api/v1/agents/enroll', () => {
  let env: Env;
  let ingestKey: string;
  beforeAll(async () => {
    env = await isolatedEnv();
    ({ ingestKey } = await ownerWithIngestKey(env));
  });

  it('registers the machine and answers its host id, ingest URL and cadence', async () => {
    const agent = await TestAgent.enroll(env, ingestKey, 'machine-1');
    expect(agent.hostId).toMatch(/^[0-9a-f-]{36}$/);
    const [host] = await withDb(env, (db) => db.select().from(hosts).where(eq(hosts.id, agent.hostId)));
    expect(host).toMatchObject({
      machineId: 'machine-1',
      name: 'web-1',
      labels: { env: 'test' },
      agentVersion: '0.1.0',
    });
    expect(host?.facts).toEqual(FACTS);
  });

  it('re-enrolling the same machine keeps its host and replaces the key', async () => {
    const first = await TestAgent.enroll(env, ingestKey, 'machine-2');
    const second = await TestAgent.enroll(env, ingestKey, 'machine-2');
    expect(second.hostId).toBe(first.hostId);
    const stale = await first.push(first.batch([sample(Date.now())]));
    expect((await errorOf(stale)).code).toBe('bad_signature');
    expect((await second.push(second.batch([sample(Date.now())]))).status).toBe(200);
  });

  it('refuses read keys, unknown keys and bad bodies', async () => {
    const { owner } = await ownerWithIngestKey(env, 'readkey');
    const { secret } = CreatedApiKey.parse(
      await (await owner.post('/api/v1/keys', { name: 'r', scope: 'read' })).json(),
    );
    const body = { publicKey: 'A'.repeat(43), machineId: 'm', hostname: 'h', facts: FACTS, agentVersion: '1' };
    const read = await enrollRequest(env, secret, body);
    expect(read.status).toBe(403);
    expect((await errorOf(read)).code).toBe('wrong_key_scope');
    const unknown = await enrollRequest(env, 'pw_live_unknownunknownunknownunknown', body);
    expect(unknown.status).toBe(401);
    const bad = await enrollRequest(env, ingestKey, { ...body, publicKey: 'short' });
    expect(bad.status).toBe(422);
    expect((await errorOf(bad)).path).toBe('json.publicKey');
  });
});

describe('POST /api/v1/ingest', () => {
  let env: Env;
  let agent: TestAgent;
  beforeAll(async () => {
    env = await isolatedEnv();
    const { ingestKey } = await ownerWithIngestKey(env);
    agent = await TestAgent.enroll(env, ingestKey);
  });

  it('stores a signed gzip batch and answers the idle cadence', async () => {
    const now = Date.now();
    const res = await agent.push(
      agent.batch([sample(now - 2000), sample(now - 1000)], {
        metrics: [{ name: 'queue.depth', kind: 'gauge', value: 7, ts: now, labels: { queue: 'mail' } }],
        events: [{ ts: now, kind: 'job.progress', id: 'job-42', name: 'backup', progress: 0.5 }],
      }),
    );
    expect(res.status).toBe(200);
    expect(IngestResponse.parse(await res.json())).toEqual({
      accepted: 4,
      duplicate: false,
      cadence: { collectIntervalMs: 10_000, pushIntervalMs: 30_000, live: false },
    });
    const stored = await withDb(env, async (db) => ({
      samples: await db.select().from(hostSamples).where(eq(hostSamples.hostId, agent.hostId)),
      metrics: await db.select().from(customMetricPoints).where(eq(customMetricPoints.hostId, agent.hostId)),
      events: await db.select().from(appEvents).where(eq(appEvents.hostId, agent.hostId)),
      host: (await db.select().from(hosts).where(eq(hosts.id, agent.hostId)))[0],
    }));
    expect(stored.samples.map((s) => s.ts.getTime()).sort()).toEqual([now - 2000, now - 1000]);
    expect(stored.samples[0]?.sample).toMatchObject({ cpu: { total: 12.5 } });
    expect(stored.samples[0]?.tenantId).toBe(agent.tenantId);
    expect(stored.metrics).toMatchObject([{ name: 'queue.depth', kind: 'gauge', value: 7, labels: { queue: 'mail' } }]);
    expect(stored.events).toMatchObject([{ kind: 'job.progress', subjectId: 'job-42', progress: 0.5 }]);
    expect(stored.host?.lastSeenAt?.getTime()).toBeGreaterThanOrEqual(now - 1000);
  });

  it('acknowledges a retried batch and stores it once', async () => {
    const batch = agent.batch([sample(Date.now() - 500)]);
    const before = await rowCounts(env, agent.hostId);
    const first = IngestResponse.parse(await (await agent.push(batch)).json());
    const again = IngestResponse.parse(await (await agent.push(batch)).json());
    expect(first).toMatchObject({ accepted: 1, duplicate: false });
    expect(again).toMatchObject({ accepted: 0, duplicate: true });
    expect(await rowCounts(env, agent.hostId)).toEqual({ samples: before.samples + 1, batches: before.batches + 1 });
  });

  it('accepts an uncompressed batch and out-of-order backfill', async () => {
    agent.seq += 500; // leave room below: backfill carries older seqs than the live batch
    const newer = agent.batch([sample(Date.now() - 100)]);
    const older = { ...agent.batch([sample(Date.now() - 60_000)]), seq: newer.seq - 100 };
    expect((await agent.push(newer, { gzip: false })).status).toBe(200);
    expect((await agent.push(older)).status).toBe(200);
  });

  it('409 when a stored seq comes back under another batch id', async () => {
    const batch = agent.batch([sample(Date.now())]);
    await agent.push(batch);
    const res = await agent.push({ ...batch, batch_id: crypto.randomUUID() });
    expect(res.status).toBe(409);
    expect((await errorOf(res)).code).toBe('replayed_seq');
  });

  it('401 for a tampered body, absent signature, unknown host and skewed clock; nothing written', async () => {
    const before = await rowCounts(env, agent.hostId);
    const tampered = await agent.push(agent.batch([sample(Date.now())]), { tamper: true });
    expect(tampered.status).toBe(401);
    expect((await errorOf(tampered)).code).toBe('bad_signature');

    const unsigned = await fetchIngest(env, { 'Content-Type': 'application/json' }, '{}');
    expect(unsigned.status).toBe(401);
    expect((await errorOf(unsigned)).code).toBe('bad_signature');

    const stale = await agent.push(agent.batch([sample(Date.now())]), { timestamp: Date.now() - 6 * 60_000 });
    expect(stale.status).toBe(401);
    expect((await errorOf(stale)).code).toBe('stale_timestamp');

    const ghost = new TestAgent(env, crypto.randomUUID(), agent.tenantId, agent.privateKey);
    const unknown = await ghost.push(ghost.batch([sample(Date.now())]));
    expect((await errorOf(unknown)).code).toBe('unknown_host');
    expect(await rowCounts(env, agent.hostId)).toEqual(before);
  });

  it('422 naming the first bad field, 400 for bad JSON or gzip, 413 when too large; nothing written', async () => {
    const before = await rowCounts(env, agent.hostId);
    const bad = agent.batch([sample(Date.now()), { ...sample(Date.now()), cpu: { total: 250 } } as never]);
    const invalid = await agent.push(bad);
    expect(invalid.status).toBe(422);
    expect((await errorOf(invalid)).path).toMatch(/^samples\.1\.cpu/);

    const seconds = agent.batch([{ ...sample(Date.now()), ts: Math.floor(Date.now() / 1000) }]);
    expect((await agent.push(seconds)).status).toBe(422);

    const notJson = await agent.push(
      { batch_id: crypto.randomUUID() },
      { body: new Uint8Array(new TextEncoder().encode('{nope')) },
    );
    expect(notJson.status).toBe(400);

    const huge = await agent.push(agent.batch([]), { gzip: false, body: new Uint8Array(1024 * 1024 + 1) });
    expect(huge.status).toBe(413);

    const wrongHost = await agent.push({ ...agent.batch([sample(Date.now())]), host_id: crypto.randomUUID() });
    expect(wrongHost.status).toBe(400);
    expect(await rowCounts(env, agent.hostId)).toEqual(before);
  });

  it('403 once the host is revoked', async () => {
    const { ingestKey } = await ownerWithIngestKey(env, 'revoker');
    const doomed = await TestAgent.enroll(env, ingestKey);
    await withDb(env, (db) => db.update(hosts).set({ revokedAt: new Date() }).where(eq(hosts.id, doomed.hostId)));
    const res = await doomed.push(doomed.batch([sample(Date.now())]));
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe('host_revoked');
  });

  it("never lets a host of tenant A write into tenant B's host", async () => {
    const b = await ownerWithIngestKey(env, 'tenant-b');
    const hostOfB = await TestAgent.enroll(env, b.ingestKey);
    const before = await rowCounts(env, hostOfB.hostId);
    // A's key signing as B's host: the signature is checked against B's key and fails.
    const impostor = new TestAgent(env, hostOfB.hostId, agent.tenantId, agent.privateKey);
    const res = await impostor.push(impostor.batch([sample(Date.now())]));
    expect((await errorOf(res)).code).toBe('bad_signature');
    // A's own signed request naming B's host in the body: refused before storage.
    const mislabeled = await agent.push({ ...agent.batch([sample(Date.now())]), host_id: hostOfB.hostId });
    expect(mislabeled.status).toBe(400);
    expect(await rowCounts(env, hostOfB.hostId)).toEqual(before);
  });
});

async function fetchIngest(env: Env, headers: Record<string, string>, body: string): Promise<Response> {
  const { callWorker } = await import('../../test/support.ts');
  return callWorker(env, '/api/v1/ingest', { method: 'POST', headers, body });
}
