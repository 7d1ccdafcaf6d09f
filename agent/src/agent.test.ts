import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LIVE_CADENCE } from '@pulsewire/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from './agent.ts';
import type { Clock } from './clock.ts';
import { SampleCollector } from './collectors/index.ts';
import { IntakeBuffer } from './intake/aggregator.ts';
import { memoryLogger } from './log.ts';
import { SampleJournal } from './spool/journal.ts';
import { type IngestServer, startIngestServer } from './test/ingest-server.ts';
import { Backoff } from './transport/backoff.ts';

/** Virtual time: sleeping advances it at once, so waits are asserted as numbers, never measured. */
function virtualClock(start = Date.now()): Clock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    async sleep(ms, signal) {
      if (signal?.aborted) return;
      sleeps.push(ms);
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

let server: IngestServer;
let stateDir: string;

beforeEach(async () => {
  server = await startIngestServer();
  stateDir = mkdtempSync(path.join(tmpdir(), 'pw-agent-'));
});
afterEach(async () => {
  await server.close();
});

function makeAgent(clock: Clock, extra: { intake?: IntakeBuffer } = {}) {
  const log = memoryLogger();
  let n = 0;
  const collector = new SampleCollector(
    [{ name: 'load', collect: async () => ({ load: { 1: ++n, 5: 0, 15: 0 } }) }],
    log,
  );
  const agent = new Agent({
    hostId: server.hostId,
    ingestUrl: server.ingestUrl,
    privateKey: server.keys.privateKey,
    stateDir,
    queue: { memoryBatches: 4, maxBytes: 64 * 1024 * 1024, maxBatches: 1000 },
    collector,
    log,
    clock,
    backoff: new Backoff({ baseMs: 1000, minMs: 0, random: () => 0.5 }),
    facts: async () => ({
      os: 'Test OS 1',
      kernel: '6.0',
      arch: 'x64',
      cpuModel: 'Test CPU',
      cores: 2,
      memTotal: 1e9,
      bootTime: 1_790_000_000_000,
      hostname: 'test',
    }),
    ...extra,
  });
  return { agent, log };
}

const spooled = () => readdirSync(path.join(stateDir, 'spool')).filter((name) => name.endsWith('.json.gz'));

describe('agent', () => {
  it('pushes signed batches, retries 5xx with backoff and 429 after Retry-After, and follows the cadence hint', async () => {
    const clock = virtualClock();
    server.setClock(clock.now);
    server.setCadence(LIVE_CADENCE);
    server.script.push(
      { status: 503, body: { error: { code: 'service_unavailable', message: 'database unreachable' } } },
      { status: 429, body: { error: { code: 'rate_limited', message: 'slow down' } }, headers: { 'retry-after': '7' } },
    );
    const intake = new IntakeBuffer(memoryLogger());
    intake.event({ ts: clock.now(), kind: 'job.started', id: 'job-1' });
    const { agent, log } = makeAgent(clock, { intake });
    server.onBatch(() => {
      if (server.received.length >= 4) agent.stop();
    });
    expect(await agent.run()).toEqual({ kind: 'stopped' });

    expect(server.violations).toEqual([]);
    const [first, second, third] = server.requests;
    expect([first?.status, second?.status, third?.status]).toEqual([503, 429, 200]);
    // Same batch each time; the 503 waited a jittered 500 ms (random 0.5 × 1 s), the 429 its 7 s.
    expect(new Set([first?.batchId, second?.batchId, third?.batchId]).size).toBe(1);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBe(500);
    expect((third?.at ?? 0) - (second?.at ?? 0)).toBe(7000);
    expect(log.lines.some((line) => line.includes('code=rate_limited'))).toBe(true);

    // The first batch carries the facts and the application's event; then the live cadence: 1 s samples.
    const [firstBatch] = server.received;
    expect(firstBatch?.facts?.os).toBe('Test OS 1');
    expect(firstBatch?.events).toEqual([expect.objectContaining({ kind: 'job.started', id: 'job-1' })]);
    expect(agent.cadence).toEqual(LIVE_CADENCE);
    const values = server.received.flatMap((b) => b.samples.map((s) => s.load?.[1]));
    expect(values).toEqual([...values].sort((a, b) => (a ?? 0) - (b ?? 0)));
    expect(new Set(values).size).toBe(values.length);
    const late = server.requests.slice(-2);
    expect((late[1]?.at ?? 0) - (late[0]?.at ?? 0)).toBe(1000);
    expect(spooled()).toEqual([]);
  });

  it('drops a batch the server refuses with 422, without retrying it, and goes on', async () => {
    const clock = virtualClock();
    server.script.push({
      status: 422,
      body: { error: { code: 'validation_failed', message: 'bad sample', path: 'samples.0.cpu.total' } },
    });
    server.setCadence({ collectIntervalMs: 1000, pushIntervalMs: 2000, live: false });
    const { agent, log } = makeAgent(clock);
    server.onBatch(() => {
      if (server.received.length >= 2) agent.stop();
    });
    await agent.run();
    const refused = server.requests[0]?.batchId;
    expect(server.requests.filter((r) => r.batchId === refused)).toHaveLength(1);
    expect(server.received.map((b) => b.batch_id)).not.toContain(refused);
    expect(
      log.lines.some((line) => line.includes('422 validation_failed') && line.includes('samples.0.cpu.total')),
    ).toBe(true);
  });

  it('stops with a clear reason when the host is revoked, keeping the batch on disk', async () => {
    const clock = virtualClock();
    server.script.push({ status: 403, body: { error: { code: 'host_revoked', message: 'host deleted by an admin' } } });
    const { agent, log } = makeAgent(clock);
    expect(await agent.run()).toEqual({ kind: 'revoked', code: 'host_revoked', message: 'host deleted by an admin' });
    expect(server.requests).toHaveLength(1);
    expect(spooled()).toHaveLength(1);
    expect(log.lines.some((line) => line.includes('revoked') && line.includes('enroll the machine again'))).toBe(true);
  });

  it('a 403 that is not host_revoked (a proxy or WAF) keeps the agent running and the batch, and says so', async () => {
    const clock = virtualClock();
    server.setClock(clock.now);
    server.script.push({ status: 403, body: '<html><h1>403 Forbidden</h1>Blocked by policy</html>' });
    const { agent, log } = makeAgent(clock);
    server.onBatch((batch) => {
      if (batch.batch_id === server.requests[0]?.batchId) agent.stop();
    });
    expect(await agent.run()).toEqual({ kind: 'stopped' });
    const [blocked, next] = server.requests;
    expect(blocked?.status).toBe(403);
    // The refused batch was kept and arrived later.
    expect(server.received.map((b) => b.batch_id)).toContain(blocked?.batchId);
    // Retried like an auth failure: after the longest backoff (5 min), not at once.
    expect((next?.at ?? 0) - (blocked?.at ?? 0)).toBeGreaterThanOrEqual(5 * 60_000);
    expect(log.lines.some((line) => line.includes('403') && line.includes('without revoking'))).toBe(true);
  });

  it('after seq.json is restored from an old snapshot, renumbers past the server and loses nothing', async () => {
    const seqFile = path.join(stateDir, 'seq.json');
    const snapshot = path.join(stateDir, 'seq.snapshot.json');
    const runUntil = async (batches: number) => {
      const { agent, log } = makeAgent(virtualClock());
      const from = server.received.length;
      server.onBatch(() => {
        if (server.received.length - from >= batches) agent.stop();
      });
      await agent.run();
      return { log, delivered: server.received.slice(from) };
    };
    await runUntil(2);
    copyFileSync(seqFile, snapshot); // the snapshot: taken between two runs
    const second = await runUntil(3);
    copyFileSync(snapshot, seqFile); // restored: the next run hands out the second run's numbers again

    const third = await runUntil(3);
    const replays = server.requests.filter((r) => r.status === 409);
    expect(replays.length).toBeGreaterThan(0);
    // Every batch the third run cut arrived (the refused ones under new numbers), every sample once, in order.
    expect(replays.every((r) => third.delivered.some((b) => b.batch_id === r.batchId))).toBe(true);
    const values = third.delivered.flatMap((b) => b.samples.map((s) => s.load?.[1] ?? 0));
    expect([...values].sort((a, b) => a - b)).toEqual(Array.from({ length: values.length }, (_, i) => i + 1));
    // And numbering went on above everything the server had.
    const secondMax = Math.max(...second.delivered.map((b) => b.seq));
    const renumbered = third.delivered.filter((b) => replays.some((r) => r.batchId === b.batch_id));
    expect(Math.min(...renumbered.map((b) => b.seq))).toBeGreaterThan(secondMax);
    expect(spooled()).toEqual([]);
    expect(server.violations).toEqual([]);
    expect(third.log.lines.some((line) => line.includes('state folder restored or wiped'))).toBe(true);
  });

  it('sets aside a batch the server fails on alone, so older batches are not held back, and drops it in the end', async () => {
    const clock = virtualClock();
    server.setClock(clock.now);
    const fast = { collectIntervalMs: 1000, pushIntervalMs: 2000, live: false };
    server.setCadence(fast);
    // The server is down for a while, so batches pile up; then it stores every batch but one, failing with a 500.
    server.script.push(...Array.from({ length: 6 }, () => ({ status: 503 })));
    let poisoned: string | undefined;
    server.answer((batch) => {
      if (!poisoned && batch.samples.some((s) => s.load?.[1] === 7)) poisoned = batch.batch_id;
      if (batch.batch_id !== poisoned) return undefined;
      return { status: 500, body: { error: { code: 'internal_error', message: 'Internal server error' } } };
    });
    const { agent, log } = makeAgent(clock);
    agent.cadence = fast;
    const dropped = () => log.lines.some((line) => line.includes('batch dropped'));
    server.onBatch(() => {
      if (dropped() && server.received.some((b) => b.samples.some((s) => s.load?.[1] === 1))) agent.stop();
    });
    server.onRequest(() => {
      if (server.requests.length >= 300) agent.stop(); // bounded: without the fix it would go on forever
    });
    await agent.run();

    const received = server.received.flatMap((b) => b.samples.map((s) => s.load?.[1] ?? 0));
    expect(received).not.toContain(7);
    // The batches older than the poisoned one arrived (before, they waited behind it for good).
    expect(received).toEqual(expect.arrayContaining([1, 2, 3, 4, 5]));
    expect(log.lines.some((line) => line.includes('set aside'))).toBe(true);
    expect(dropped()).toBe(true);
    expect(server.requests.filter((r) => r.batchId === poisoned).length).toBeGreaterThanOrEqual(5);
    expect(spooled()).toEqual([]);
    expect(server.violations).toEqual([]);
  });

  it('on stop with the server down spools what is pending; the next run sends it newest first, once', async () => {
    server.script.push(...Array.from({ length: 1000 }, () => ({ status: 503 })));
    const first = makeAgent(virtualClock());
    // Enough failed rounds for several push intervals (30 s) of virtual time to pass, then a stop.
    server.onRequest(() => {
      if (server.requests.length >= 8) first.agent.stop();
    });
    await first.agent.run();
    const onDisk = spooled();
    expect(onDisk.length).toBeGreaterThanOrEqual(3);
    const seqs = onDisk.map((name) => Number(name.slice(0, 16))).sort((a, b) => b - a);
    expect(server.received).toEqual([]);

    server.script.splice(0);
    server.onRequest(() => undefined);
    const second = makeAgent(virtualClock());
    server.onBatch(() => {
      if (spooled().length === 0) second.agent.stop();
    });
    await second.agent.run();
    const replayed = server.received.map((b) => b.seq).filter((seq) => seqs.includes(seq));
    expect(replayed).toEqual(seqs);
    expect(server.received.map((b) => b.seq)).toEqual(expect.arrayContaining(seqs));
    expect(new Set(server.received.map((b) => b.batch_id)).size).toBe(server.received.length);
    // The restarted agent continues the sequence instead of reusing numbers.
    expect(Math.max(...server.received.map((b) => b.seq))).toBeGreaterThan(seqs[0] ?? 0);
    expect(server.violations).toEqual([]);
  });

  it('after a kill -9, sends the samples collected since the last durable batch, and forgets them once sent', async () => {
    // What a run killed between collecting and pushing leaves: journaled samples, no batch, no spool file.
    const t0 = Date.now() - 60_000;
    const crashed = await SampleJournal.open(path.join(stateDir, 'journal'));
    for (const offset of [0, 10_000, 20_000]) {
      await crashed.journal.append({ ts: t0 + offset, load: { 1: 100 + offset / 10_000, 5: 0, 15: 0 } });
    }
    await crashed.journal.close(); // releases the descriptor only; the lines are already on disk

    const { agent, log } = makeAgent(virtualClock());
    server.onBatch(() => agent.stop());
    await agent.run();
    const delivered = server.received.flatMap((b) => b.samples.map((s) => s.ts));
    expect(delivered).toEqual(expect.arrayContaining([t0, t0 + 10_000, t0 + 20_000]));
    expect(log.lines.some((line) => line.includes('recovered 3 samples'))).toBe(true);
    // Delivered: the next start has nothing to recover.
    const after = await SampleJournal.open(path.join(stateDir, 'journal'));
    expect(after.recovered).toEqual([]);
    await after.journal.close();
    expect(server.violations).toEqual([]);
  });
});
