import { mkdtempSync, readdirSync } from 'node:fs';
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
