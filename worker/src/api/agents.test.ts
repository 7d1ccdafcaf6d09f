import { neonConfig } from '@neondatabase/serverless';
import {
  ApiErrorBody,
  CreatedApiKey,
  generateHostKeyPair,
  HostDetail,
  HostList,
  IngestResponse,
  LIVE_CADENCE,
  MAX_TIMESTAMP_LEAD_MS,
  ReplayedSeqErrorBody,
} from '@pulsewire/protocol';
import { count, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { enrollRequest, FACTS, ownerWithIngestKey, sample, TestAgent } from '../../test/agent.ts';
import { callWorker, isolatedEnv } from '../../test/support.ts';
import { openDatabase } from '../db/client.ts';
import { appEvents, customMetricPoints, hostSamples, hosts, ingestBatches } from '../db/schema.ts';
import { type Env, parseConfig } from '../env.ts';
import { authFailureKey } from '../limits/auth-failures.ts';
import { RATE_LIMITS } from '../limits/rate-limit.ts';

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

const IDLE = { collectIntervalMs: 10_000, pushIntervalMs: 30_000, live: false };

/** Counts `limit - 1` failures for `key`, so the next failure is the last one the limiter allows. */
async function nearlyExhaust(env: Env, key: string) {
  const { limit, windowSeconds } = RATE_LIMITS.authFailure;
  const limiter = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(key));
  for (let i = 0; i < limit - 1; i++) await limiter.hit(limit, windowSeconds);
}

/**
 * Runs `fn` counting the database connections the driver opens meanwhile: every connection asks
 * `neonConfig.wsProxy` for its WebSocket address (the relay's, configured on the first request).
 */
async function countingConnections<T>(fn: () => Promise<T>): Promise<{ result: T; connections: number }> {
  const proxy = neonConfig.wsProxy;
  if (typeof proxy !== 'function') throw new Error('expected the relay to be configured by an earlier request');
  let connections = 0;
  neonConfig.wsProxy = (host, port) => {
    connections++;
    return proxy(host, port);
  };
  try {
    return { result: await fn(), connections };
  } finally {
    neonConfig.wsProxy = proxy;
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

  it('the same key enrolling again is the same host, with its facts refreshed', async () => {
    const keys = await generateHostKeyPair();
    const first = await TestAgent.enroll(env, ingestKey, 'machine-2', 'db-1', keys);
    const again = await TestAgent.enroll(env, ingestKey, 'machine-2', 'db-2', keys);
    expect(again.hostId).toBe(first.hostId);
    const rows = await withDb(env, (db) => db.select().from(hosts).where(eq(hosts.machineId, 'machine-2')));
    expect(rows.map((h) => h.name)).toEqual(['db-2']);
    expect((await first.push(first.batch([sample(Date.now())]))).status).toBe(200);
  });

  it('a new key from a known machine id is a new host: nobody takes over the first, which keeps working', async () => {
    // Two machines cloned from one image share a machine id; whoever holds the ingest key has their own.
    const first = await TestAgent.enroll(env, ingestKey, 'machine-3', 'clone-a');
    const second = await TestAgent.enroll(env, ingestKey, 'machine-3', 'clone-b');
    expect(second.hostId).not.toBe(first.hostId);
    expect((await first.push(first.batch([sample(Date.now())]))).status).toBe(200);
    expect((await second.push(second.batch([sample(Date.now())]))).status).toBe(200);
    const rows = await withDb(env, (db) => db.select().from(hosts).where(eq(hosts.machineId, 'machine-3')));
    expect(rows.map((h) => h.name).sort()).toEqual(['clone-a', 'clone-b']);
  });

  it('a revoked host stays revoked: its key enrolling again answers 403 and changes nothing', async () => {
    const keys = await generateHostKeyPair();
    const agent = await TestAgent.enroll(env, ingestKey, 'machine-4', 'revoked-1', keys);
    const revokedAt = new Date(Date.now() - 60_000);
    await withDb(env, (db) => db.update(hosts).set({ revokedAt }).where(eq(hosts.id, agent.hostId)));
    const res = await enrollRequest(env, ingestKey, {
      publicKey: keys.publicKey,
      machineId: 'machine-4',
      hostname: 'renamed',
      name: 'renamed',
      facts: FACTS,
      agentVersion: '9.9.9',
    });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe('host_revoked');
    const [row] = await withDb(env, (db) => db.select().from(hosts).where(eq(hosts.id, agent.hostId)));
    expect(row).toMatchObject({ name: 'revoked-1', agentVersion: '0.1.0', revokedAt });
    expect((await errorOf(await agent.push(agent.batch([sample(Date.now())])))).code).toBe('host_revoked');
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

  it('checks the key before the body: an anonymous caller learns 401, not which fields are missing', async () => {
    const anonymous = await callWorker(env, '/api/v1/agents/enroll', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ hostname: 'h' }),
    });
    expect(anonymous.status).toBe(401);
    expect((await errorOf(anonymous)).code).toBe('invalid_api_key');
    const unknownKey = await enrollRequest(env, 'pw_live_unknownunknownunknownunknown', { nothing: true });
    expect(unknownKey.status).toBe(401);
  });

  it('422, not 500, for text Postgres cannot store; nothing written', async () => {
    const keys = { publicKey: 'B'.repeat(43), facts: FACTS, agentVersion: '1' };
    const nul = await enrollRequest(env, ingestKey, { ...keys, machineId: 'nul-machine', hostname: 'a\u0000b' });
    expect(nul.status).toBe(422);
    expect((await errorOf(nul)).path).toBe('json.hostname');
    const lone = await enrollRequest(env, ingestKey, {
      ...keys,
      machineId: 'lone-machine',
      hostname: 'h',
      name: 'web-\uD800',
    });
    expect(lone.status).toBe(422);
    expect((await errorOf(lone)).path).toBe('json.name');
    const facts = await enrollRequest(env, ingestKey, {
      ...keys,
      machineId: 'facts-machine',
      hostname: 'h',
      facts: { ...FACTS, os: 'Debian\u0000' },
    });
    expect((await errorOf(facts)).path).toBe('json.facts.os');
    const stored = await withDb(env, (db) => db.select({ machineId: hosts.machineId }).from(hosts));
    expect(stored.map((h) => h.machineId)).not.toContain('nul-machine');
  });

  it('limits failed enrollment keys per IP: past the limit 429 with Retry-After', async () => {
    const ip = '198.51.100.21';
    await nearlyExhaust(env, authFailureKey('enroll', ip));
    const attempt = () =>
      callWorker(env, '/api/v1/agents/enroll', {
        method: 'POST',
        headers: { Authorization: 'Bearer pw_live_guessguessguessguessguess', 'CF-Connecting-IP': ip },
        body: '{}',
      });
    expect((await attempt()).status).toBe(401);
    const limited = await attempt();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('Retry-After'))).toBeGreaterThan(0);
    // Another address is not affected.
    expect((await enrollRequest(env, 'pw_live_guessguessguessguessguess', {})).status).toBe(401);
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

  it('409 naming the highest stored seq when a stored seq comes back under another batch id', async () => {
    const newest = agent.batch([sample(Date.now() - 3000)]);
    expect((await agent.push(newest)).status).toBe(200);
    // An agent whose seq.json went back: it reuses a number below the newest one stored.
    const occupied = { ...agent.batch([sample(Date.now() - 2500)]), seq: newest.seq - 1 };
    expect((await agent.push(occupied)).status).toBe(200);
    const reused = { ...agent.batch([sample(Date.now() - 2000)]), seq: occupied.seq };
    const before = await rowCounts(env, agent.hostId);
    const res = await agent.push(reused);
    expect(res.status).toBe(409);
    const { error } = ReplayedSeqErrorBody.parse(await res.json());
    expect(error.lastSeq).toBe(newest.seq);
    expect(await rowCounts(env, agent.hostId)).toEqual(before);
    // Renumbered past it, the same batch is stored.
    const again = await agent.push({ ...reused, seq: error.lastSeq + 1 });
    expect(IngestResponse.parse(await again.json())).toMatchObject({ accepted: 1, duplicate: false });
    agent.seq = error.lastSeq + 1;
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

  it('422, not 500, for values Postgres cannot store; nothing written', async () => {
    const before = await rowCounts(env, agent.hostId);
    const now = Date.now();
    const poisoned = [
      { events: [{ ts: now, kind: 'job.failed', id: 'job-1', message: 'bad \u0000 byte' }], path: 'events.0.message' },
      { events: [{ ts: now, kind: 'job.progress', id: 'job-1', progress: 1e-46 }], path: 'events.0.progress' },
      {
        metrics: [{ name: 'q', kind: 'gauge' as const, value: 1, ts: now, labels: { queue: 'half \uD83D' } }],
        path: 'metrics.0.labels.queue',
      },
    ];
    for (const { path, ...extra } of poisoned) {
      const res = await agent.push(agent.batch([sample(now - 100)], extra));
      expect(res.status, path).toBe(422);
      expect((await errorOf(res)).path).toBe(path);
    }
    const mount = agent.batch([
      { ...sample(now), disks: [{ mount: '/\uDC00', fs: 'x', type: 'ext4', size: 1, used: 0, usedPct: 0 }] },
    ]);
    expect((await errorOf(await agent.push(mount))).path).toBe('samples.0.disks.0.mount');
    expect(await rowCounts(env, agent.hostId)).toEqual(before);
  });

  it('accepts Content-Encoding in any case, and answers 400 (not 500) for a body cut off mid-way', async () => {
    const upper = await agent.push(agent.batch([sample(Date.now() - 50)]), { headers: { 'Content-Encoding': 'GZIP' } });
    expect(upper.status).toBe(200);
    const cutOff = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([0x1f, 0x8b, 0x08]));
        controller.error(new Error('client disconnected'));
      },
    });
    const res = await callWorker(env, '/api/v1/ingest', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body: cutOff,
    });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('bad_request');
  });

  it('limits failed signatures per IP: past the limit 429 before any lookup; other addresses unaffected', async () => {
    const ip = '203.0.113.9';
    const from = { headers: { 'CF-Connecting-IP': ip } };
    await nearlyExhaust(env, authFailureKey('ingest', ip));
    const last = await agent.push(agent.batch([sample(Date.now())]), { ...from, tamper: true });
    expect(last.status).toBe(401);
    const limited = await agent.push(agent.batch([sample(Date.now())]), { ...from, tamper: true });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('Retry-After'))).toBeGreaterThan(0);
    // Remembered: an unknown host from that address is refused without looking it up (else: 401 unknown_host).
    const ghost = new TestAgent(env, crypto.randomUUID(), agent.tenantId, agent.privateKey);
    const refused = await ghost.push(ghost.batch([sample(Date.now())]), from);
    expect(refused.status).toBe(429);
    expect((await errorOf(refused)).code).toBe('rate_limited');
    expect((await agent.push(agent.batch([sample(Date.now() - 10)]))).status).toBe(200);
  });

  it('limits pushes per host with the Rate Limiting binding, never with an object', async () => {
    expect(env.INGEST_LIMITER, 'wrangler.toml declares INGEST_LIMITER').toBeDefined();
    const { ingestKey } = await ownerWithIngestKey(env, 'runaway');
    const runaway = await TestAgent.enroll(env, ingestKey);
    const other = await TestAgent.enroll(env, ingestKey);
    // The binding counts per host in fixed windows: whichever window the loop starts in, the first refusal comes
    // after at least `limit` pushes and within two windows' worth.
    const t0 = Date.now() - 60_000;
    let accepted = 0;
    let refused: Response | undefined;
    for (let i = 0; i <= 2 * RATE_LIMITS.ingest.limit && !refused; i++) {
      const res = await runaway.push(runaway.batch([sample(t0 + i * 10)]));
      if (res.status === 429) refused = res;
      else {
        expect(res.status).toBe(200);
        accepted++;
      }
    }
    expect(accepted).toBeGreaterThanOrEqual(RATE_LIMITS.ingest.limit);
    expect(refused?.status).toBe(429);
    expect((await errorOf(refused as Response)).code).toBe('rate_limited');
    expect(Number(refused?.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect((await other.push(other.batch([sample(Date.now())]))).status).toBe(200);
  }, 120_000);

  it('refuses a push past its limit before opening a database connection', async () => {
    const { ingestKey } = await ownerWithIngestKey(env, 'limited');
    const enrolled = await TestAgent.enroll(env, ingestKey);
    // A first push puts the host in the isolate's cache, as a steadily pushing agent's is.
    expect((await enrolled.push(enrolled.batch([sample(Date.now() - 20)]))).status).toBe(200);
    const asked: string[] = [];
    const refusing: RateLimit = {
      async limit({ key }) {
        asked.push(key);
        return { success: false };
      },
    };
    const limited = new TestAgent(
      { ...env, INGEST_LIMITER: refusing },
      enrolled.hostId,
      enrolled.tenantId,
      enrolled.privateKey,
    );
    const opened = await countingConnections(() => limited.push(limited.batch([sample(Date.now() - 10)])));
    expect(opened.result.status).toBe(429);
    expect((await errorOf(opened.result)).code).toBe('rate_limited');
    expect(asked).toEqual([`host:${enrolled.hostId}`]);
    expect(opened.connections).toBe(0);
    // The same host within its limit opens one: the count above could have seen it.
    const allowed = await countingConnections(() => enrolled.push(enrolled.batch([sample(Date.now())])));
    expect(allowed.result.status).toBe(200);
    expect(allowed.connections).toBeGreaterThan(0);
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

describe('ingest timestamps', () => {
  let env: Env;
  let agent: TestAgent;
  beforeAll(async () => {
    env = await isolatedEnv();
    const { ingestKey } = await ownerWithIngestKey(env);
    agent = await TestAgent.enroll(env, ingestKey);
  });

  it('does not store samples stamped past the signed timestamp, and counts only what was stored', async () => {
    const now = Date.now();
    const future = Date.UTC(2099, 0, 1);
    const res = await agent.push(
      agent.batch([sample(now - 1000, 20), sample(now + MAX_TIMESTAMP_LEAD_MS / 2, 21), sample(future, 99)], {
        events: [
          { ts: now, kind: 'job.started', id: 'j1' },
          { ts: future, kind: 'job.completed', id: 'j1' },
        ],
        metrics: [{ name: 'm', kind: 'gauge', value: 1, ts: future }],
      }),
      { timestamp: now },
    );
    expect(IngestResponse.parse(await res.json())).toMatchObject({ accepted: 3, duplicate: false });
    const stored = await withDb(env, async (db) => ({
      samples: await db.select().from(hostSamples).where(eq(hostSamples.hostId, agent.hostId)),
      events: await db.select().from(appEvents).where(eq(appEvents.hostId, agent.hostId)),
      metrics: await db.select().from(customMetricPoints).where(eq(customMetricPoints.hostId, agent.hostId)),
    }));
    expect(stored.samples.map((s) => s.ts.getTime()).sort()).toEqual([now - 1000, now + MAX_TIMESTAMP_LEAD_MS / 2]);
    expect(stored.events.map((e) => e.kind)).toEqual(['job.started']);
    expect(stored.metrics).toEqual([]);
  });

  it('counts two samples with one timestamp once, as stored', async () => {
    const ts = Date.now() - 5000;
    const res = await agent.push(agent.batch([sample(ts, 30), sample(ts, 31)]));
    expect(IngestResponse.parse(await res.json())).toMatchObject({ accepted: 1 });
    const again = await agent.push(agent.batch([sample(ts, 32), sample(ts + 1, 33)]));
    expect(IngestResponse.parse(await again.json())).toMatchObject({ accepted: 1 });
  });

  it('keeps a sample stored in the future (before the rule) out of "latest" on the host page and list', async () => {
    // A host of its own: the test above stored a sample 30 s ahead, which "latest" rightly shows.
    const { owner: viewer, ingestKey } = await ownerWithIngestKey(env, 'latest');
    const fresh = await TestAgent.enroll(env, ingestKey);
    const now = Date.now();
    await withDb(env, (db) =>
      db.insert(hostSamples).values({
        tenantId: fresh.tenantId,
        hostId: fresh.hostId,
        ts: new Date(Date.UTC(2099, 0, 1)),
        sample: sample(0, 99) as unknown as Record<string, unknown>,
      }),
    );
    await fresh.push(fresh.batch([sample(now - 200, 42)]));
    const detail = HostDetail.parse(await (await viewer.get(`/api/v1/hosts/${fresh.hostId}`)).json());
    expect(detail.latest?.ts).toBeLessThanOrEqual(now + MAX_TIMESTAMP_LEAD_MS);
    expect(detail.latest?.cpu?.total).toBe(42);
    const list = HostList.parse(await (await viewer.get('/api/v1/hosts')).json());
    expect(list.hosts.find((h) => h.id === fresh.hostId)?.glance).toMatchObject({ cpuPct: 42 });
  });
});

describe('ingest when the tenant object fails', () => {
  let env: Env;
  let agent: TestAgent;
  beforeAll(async () => {
    env = await isolatedEnv();
    const { ingestKey } = await ownerWithIngestKey(env);
    agent = await TestAgent.enroll(env, ingestKey);
  });

  /** The real env with a tenant object whose calls fail `failures` times, then answer the live cadence. */
  function failingTenant(failures: number) {
    const calls: string[] = [];
    let left = failures;
    const attempt = (name: string) => {
      calls.push(name);
      if (left-- > 0) throw new Error('Durable Object overloaded');
      return LIVE_CADENCE;
    };
    const stub = {
      recordBatch: async () => attempt('recordBatch'),
      cadenceFor: async () => attempt('cadenceFor'),
    };
    const TENANT = { idFromName: (name: string) => env.TENANT.idFromName(name), get: () => stub };
    const broken = new TestAgent(
      { ...env, TENANT: TENANT as unknown as Env['TENANT'] },
      agent.hostId,
      agent.tenantId,
      agent.privateKey,
    );
    broken.seq = agent.seq;
    return { broken, calls };
  }

  it('a stored batch answers 200 with the idle cadence, and the object is tried again after the answer', async () => {
    const { broken, calls } = failingTenant(1);
    const batch = broken.batch([sample(Date.now() - 100)]);
    const before = await rowCounts(env, agent.hostId);
    const res = await broken.push(batch);
    expect(res.status).toBe(200);
    expect(IngestResponse.parse(await res.json())).toEqual({ accepted: 1, duplicate: false, cadence: IDLE });
    expect(calls).toEqual(['recordBatch', 'recordBatch']);
    expect(await rowCounts(env, agent.hostId)).toEqual({ samples: before.samples + 1, batches: before.batches + 1 });
    agent.seq = broken.seq;
  });

  it('a duplicate answers 200 with the idle cadence when the object cannot say who watches', async () => {
    const { broken, calls } = failingTenant(5);
    const batch = broken.batch([sample(Date.now() - 50)]);
    expect((await agent.push(batch)).status).toBe(200);
    const res = await broken.push(batch);
    expect(IngestResponse.parse(await res.json())).toEqual({ accepted: 0, duplicate: true, cadence: IDLE });
    expect(calls).toEqual(['cadenceFor']);
  });
});

async function fetchIngest(env: Env, headers: Record<string, string>, body: string): Promise<Response> {
  const { callWorker } = await import('../../test/support.ts');
  return callWorker(env, '/api/v1/ingest', { method: 'POST', headers, body });
}
