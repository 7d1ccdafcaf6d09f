import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  ApiErrorBody,
  CreatedApiKey,
  EnrollResponse,
  generateHostKeyPair,
  HostDetail,
  type IngestBatch,
  IngestResponse,
  importPrivateKey,
  type Sample,
  signIngestRequest,
} from '@pulsewire/protocol';
import { ApiSession, type DevStack, startDevStack, verifyFromOutbox } from '@pulsewire/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue #11 retried the way its reviewers found the defects: hostile requests sent to the running
 * local stack (what `pnpm dev` runs: wrangler dev, the relay, the embedded Postgres). Each answer must
 * be the typed error or the safe behaviour, never a 500.
 */

const FACTS = {
  os: 'Debian GNU/Linux 12',
  kernel: '6.1.0',
  arch: 'x64',
  cpuModel: 'Test CPU',
  cores: 2,
  memTotal: 8e9,
  bootTime: Date.now() - 3_600_000,
  hostname: 'probe',
};

const sample = (ts: number, cpu = 10): Sample => ({
  ts,
  cpu: { total: cpu, user: cpu, system: 0, iowait: 0, steal: 0, perCore: [cpu, cpu] },
});

class Agent {
  seq = 0;
  readonly base: string;
  readonly hostId: string;
  readonly privateKey: string;
  constructor(base: string, hostId: string, privateKey: string) {
    this.base = base;
    this.hostId = hostId;
    this.privateKey = privateKey;
  }

  static async enroll(base: string, ingestKey: string, machineId = crypto.randomUUID()): Promise<Agent> {
    const keys = await generateHostKeyPair();
    const res = await enroll(base, ingestKey, {
      publicKey: keys.publicKey,
      machineId,
      hostname: `probe-${machineId.slice(0, 4)}`,
      facts: FACTS,
      agentVersion: '0.1.0',
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return new Agent(base, EnrollResponse.parse(await res.json()).hostId, keys.privateKey);
  }

  batch(samples: Sample[], extra: Partial<IngestBatch> = {}): IngestBatch {
    return {
      batch_id: crypto.randomUUID(),
      seq: ++this.seq,
      host_id: this.hostId,
      sent_at: Date.now(),
      samples,
      ...extra,
    };
  }

  async push(batch: IngestBatch | Record<string, unknown>, encoding = 'gzip'): Promise<Response> {
    const body = new Uint8Array(gzipSync(JSON.stringify(batch)));
    const headers = await signIngestRequest({
      privateKey: await importPrivateKey(this.privateKey),
      hostId: this.hostId,
      batchId: String(batch.batch_id),
      body,
    });
    return fetch(`${this.base}/api/v1/ingest`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json', 'Content-Encoding': encoding },
      body,
    });
  }
}

function enroll(base: string, key: string | null, body: unknown): Promise<Response> {
  return fetch(`${base}/api/v1/agents/enroll`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(key ? { Authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
}

async function expectError(res: Response, status: number, code: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(ApiErrorBody.parse(JSON.parse(text)).error.code, text).toBe(code);
}

describe('hostile requests against the running local stack (issue #11)', () => {
  let stack: DevStack;
  let dataDir: string;
  let owner: ApiSession;
  let ingestKey: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-e2e-hardening-'));
    stack = await startDevStack({ dataDir });
    owner = new ApiSession(stack.url);
    const email = `hardening-${crypto.randomUUID().slice(0, 6)}@example.com`;
    await owner.expect('POST', '/auth/signup', { email, password: 'correct horse battery staple' }, 201);
    await verifyFromOutbox(owner, email);
    const created = CreatedApiKey.parse(await owner.expect('POST', '/keys', { name: 'agents', scope: 'ingest' }, 201));
    ingestKey = created.secret;
  });

  afterAll(async () => {
    await stack?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers values Postgres cannot store with 422, in enrollment and ingest alike (4)', async () => {
    const keys = await generateHostKeyPair();
    const body = {
      publicKey: keys.publicKey,
      machineId: crypto.randomUUID(),
      hostname: 'evil\u0000host',
      facts: FACTS,
      agentVersion: '0.1.0',
    };
    await expectError(await enroll(stack.url, ingestKey, body), 422, 'validation_failed');
    await expectError(
      await enroll(stack.url, ingestKey, { ...body, hostname: 'ok', agentVersion: '\uD800' }),
      422,
      'validation_failed',
    );
    const agent = await Agent.enroll(stack.url, ingestKey);
    const now = Date.now();
    const poisoned = agent.batch([sample(now)], {
      events: [{ ts: now, kind: 'job.progress', id: 'nightly', progress: 1e-46 }],
    });
    await expectError(await agent.push(poisoned), 422, 'validation_failed');
    await expectError(
      await agent.push(agent.batch([sample(now)], { events: [{ ts: now, kind: 'job.failed', id: 'a\u0000b' }] })),
      422,
      'validation_failed',
    );
    // Nothing of them was stored, and the host goes on.
    expect((await agent.push(agent.batch([sample(now)]))).status).toBe(200);
  });

  it('never lets a sample from the future become "latest", and counts only what it stored (6)', async () => {
    const agent = await Agent.enroll(stack.url, ingestKey);
    const now = Date.now();
    const res = await agent.push(
      agent.batch([sample(now - 1000, 11), sample(now - 1000, 12), sample(now + 3_600_000, 99)]),
    );
    expect(res.status).toBe(200);
    expect(IngestResponse.parse(await res.json()).accepted).toBe(1);
    const host = HostDetail.parse(await owner.expect('GET', `/hosts/${agent.hostId}`, undefined, 200));
    expect(host.latest?.ts).toBe(now - 1000);
    expect(host.latest?.cpu?.total).toBe(11);
  });

  it('checks the enrollment key before the body, and takes Content-Encoding in any case (7)', async () => {
    await expectError(await enroll(stack.url, null, { not: 'a request' }), 401, 'invalid_api_key');
    const agent = await Agent.enroll(stack.url, ingestKey);
    expect((await agent.push(agent.batch([sample(Date.now())]), 'GZIP')).status).toBe(200);
  });

  it('answers a reused seq with 409 and the highest stored seq (2)', async () => {
    const agent = await Agent.enroll(stack.url, ingestKey);
    expect((await agent.push(agent.batch([sample(Date.now() - 2000)]))).status).toBe(200);
    agent.seq = 0; // a restored state folder
    const res = await agent.push(agent.batch([sample(Date.now())]));
    const text = await res.text();
    expect(res.status, text).toBe(409);
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'replayed_seq', lastSeq: 1 } });
  });

  it('keeps concurrent requests apart: 10 hosts × 5 rounds of parallel batches, all stored (8)', async () => {
    const agents = await Promise.all(Array.from({ length: 10 }, () => Agent.enroll(stack.url, ingestKey)));
    const statuses: number[] = [];
    for (let round = 0; round < 5; round++) {
      const now = Date.now() - 10_000 + round * 1000;
      const answers = await Promise.all(agents.map((a) => a.push(a.batch([sample(now, round)]))));
      statuses.push(...answers.map((r) => r.status));
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it('gives an unverified account no session (10)', async () => {
    const stranger = new ApiSession(stack.url);
    const email = `unverified-${crypto.randomUUID().slice(0, 6)}@example.com`;
    await stranger.expect('POST', '/auth/signup', { email, password: 'correct horse battery staple' }, 201);
    const login = await stranger.call('POST', '/auth/login', { email, password: 'correct horse battery staple' });
    await expectError(login, 403, 'email_unverified');
    expect((await stranger.call('GET', '/keys')).status).toBe(401);
  });

  it('never lets an ingest key take over a host: a new key from a known machine is a new host (3)', async () => {
    const machineId = crypto.randomUUID();
    const first = await Agent.enroll(stack.url, ingestKey, machineId);
    const clone = await Agent.enroll(stack.url, ingestKey, machineId);
    expect(clone.hostId).not.toBe(first.hostId);
    expect((await first.push(first.batch([sample(Date.now())]))).status).toBe(200);
    expect((await clone.push(clone.batch([sample(Date.now())]))).status).toBe(200);
  });

  it('pages the host list (21)', async () => {
    const page = (await owner.expect('GET', '/hosts?limit=2', undefined, 200)) as {
      hosts: { id: string }[];
      nextCursor: string | null;
    };
    expect(page.hosts).toHaveLength(2);
    expect(page.nextCursor).toEqual(expect.any(String));
    const next = (await owner.expect(
      'GET',
      `/hosts?limit=2&cursor=${encodeURIComponent(page.nextCursor ?? '')}`,
      undefined,
      200,
    )) as { hosts: { id: string }[] };
    expect(next.hosts.map((h) => h.id)).not.toContain(page.hosts[0]?.id);
  });

  it('closes a live socket that acknowledges frames it was never sent (17)', async () => {
    const key = CreatedApiKey.parse(await owner.expect('POST', '/keys', { name: 'script', scope: 'read' }, 201));
    const url = new URL('/api/v1/stream', stack.url);
    url.protocol = 'ws:';
    // Node's WebSocket (undici) takes headers: a script authenticates with a read key.
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${key.secret}` } } as never);
    const messages: { type: string; code?: string }[] = [];
    ws.addEventListener('message', (event) => messages.push(JSON.parse(String(event.data))));
    const closed = new Promise<number>((resolve) => ws.addEventListener('close', (event) => resolve(event.code)));
    await new Promise((resolve) => ws.addEventListener('open', resolve, { once: true }));
    const agent = await Agent.enroll(stack.url, ingestKey);
    ws.send(JSON.stringify({ type: 'subscribe', hosts: [agent.hostId], streams: ['metrics'] }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await agent.push(agent.batch([sample(Date.now())]))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    ws.send(JSON.stringify({ type: 'ack', seq: Number.MAX_SAFE_INTEGER }));
    expect(await closed).toBe(1008);
    expect(messages.map((m) => m.code ?? m.type)).toContain('invalid_ack');
  });

  it('sends a Content-Security-Policy with every page and API answer (16)', async () => {
    for (const route of ['/', '/hosts', '/api/v1/health', '/api/docs']) {
      const res = await fetch(`${stack.url}${route}`);
      expect(res.status, route).toBeLessThan(500);
      expect(res.headers.get('content-security-policy'), route).toBeTruthy();
      expect(res.headers.get('x-content-type-options'), route).toBe('nosniff');
    }
  });
});
