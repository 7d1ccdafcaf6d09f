import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Cadence, CONTROL_MAX_BATCH_BYTES, LIVE_CADENCE } from '@pulsewire/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent, type AgentOptions } from './agent.ts';
import { buildBatch, encodeBatch } from './batch.ts';
import type { Clock } from './clock.ts';
import { SampleCollector } from './collectors/index.ts';
import { IntakeBuffer } from './intake/aggregator.ts';
import { memoryLogger } from './log.ts';
import { Spool } from './spool/spool.ts';
import { readStatus } from './state-file.ts';
import { type IngestServer, startIngestServer, until } from './test/ingest-server.ts';
import { Backoff } from './transport/backoff.ts';

/** The agent with its control socket, against the stand-in that serves both ingest and the socket. */
let server: IngestServer;
let stateDir: string;
beforeEach(async () => {
  server = await startIngestServer();
  stateDir = mkdtempSync(path.join(tmpdir(), 'pw-agent-control-'));
});
afterEach(async () => {
  await server.close();
});

/** An hour between collections: only a cadence heard on the socket can bring the next sample within a test. */
const HOURLY: Cadence = { collectIntervalMs: 3_600_000, pushIntervalMs: 3_600_000, live: false };

function virtualClock(start = Date.now()): Clock {
  let now = start;
  return {
    now: () => now,
    async sleep(ms, signal) {
      if (signal?.aborted) return;
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

function makeAgent(extra: Partial<AgentOptions> = {}) {
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
    backoff: new Backoff({ baseMs: 1000, minMs: 0, random: () => 0.5 }),
    ...extra,
    control: {
      backoff: new Backoff({ baseMs: 20, maxMs: 80, minMs: 0 }),
      ...(typeof extra.control === 'object' ? extra.control : {}),
    },
  });
  return { agent, log };
}

const values = () => server.received.flatMap((b) => b.samples.map((s) => s.load?.[1]));
const spooled = () =>
  existsSync(path.join(stateDir, 'spool'))
    ? readdirSync(path.join(stateDir, 'spool')).filter((name) => name.endsWith('.json.gz'))
    : [];
const SERVICE_DOWN = { status: 503, body: { error: { code: 'service_unavailable', message: 'database unreachable' } } };

/** Every sample collected arrived exactly once, whichever way and in whatever order its batch went. */
function expectEverySampleOnce() {
  const got = values().map(Number);
  expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
  expect(new Set(server.received.map((b) => b.batch_id)).size).toBe(server.received.length);
}

describe('agent with a control socket', () => {
  it('goes live the moment the socket says so, without waiting for its next push, and relaxes the same way', async () => {
    server.setCadence(HOURLY);
    const { agent, log } = makeAgent();
    const running = agent.run();
    await until(() => server.received.length === 1 && agent.control === 'open', 'the first push and the socket');
    expect(agent.cadence).toEqual(HOURLY);

    // The next push would be an hour away: the live cadence must wake the loop now.
    server.setCadence(LIVE_CADENCE, { tell: true });
    await until(() => server.received.length >= 3, 'pushes at the live cadence');
    expect(agent.cadence).toEqual(LIVE_CADENCE);
    expect(log.lines.some((line) => line.includes('live view open') && line.includes('via=control'))).toBe(true);
    // `pulsewire-agent status` reads it from the status file, written after each push.
    expect((await readStatus(stateDir))?.control).toBe('open');

    server.setCadence(HOURLY, { tell: true });
    await until(() => JSON.stringify(agent.cadence) === JSON.stringify(HOURLY), 'the relaxed cadence');
    agent.stop();
    expect(await running).toEqual({ kind: 'stopped' });
    // Shutdown closes the socket with a close frame, and what was collected arrived in order, once.
    await until(() => server.control.closedByAgent.length === 1, 'the close frame');
    expect(server.control.closedByAgent).toEqual([1000]);
    expect(values()).toEqual([...values()].sort((a, b) => (a ?? 0) - (b ?? 0)));
    expect(new Set(values()).size).toBe(values().length);
    expect(server.violations).toEqual([]);
  });

  it('keeps collecting and pushing every sample while the socket is refused or dropped; push answers set the cadence meanwhile', async () => {
    const clock = virtualClock();
    server.setClock(clock.now);
    server.setCadence(LIVE_CADENCE);
    server.control.refuse.push(...Array(1000).fill(503));
    const { agent } = makeAgent({ clock });
    const running = agent.run();
    await until(() => server.control.attempts.length >= 2 && server.received.length >= 10, 'pushes while refused');
    // Not one open socket, yet the push answers made it live (the fallback).
    expect(server.control.attempts.every((a) => a.status === 503)).toBe(true);
    expect(agent.cadence).toEqual(LIVE_CADENCE);

    // The socket opens, then the network drops it: pushes go on, and it reconnects.
    server.control.refuse.length = 0;
    await until(() => agent.control === 'open', 'the socket to open');
    const before = server.received.length;
    server.dropControl();
    await until(
      () => server.control.attempts.filter((a) => a.status === 101).length >= 2 && agent.control === 'open',
      'a reconnection after the drop',
    );
    await until(() => server.received.length >= before + 10, 'pushes after the drop');
    agent.stop();
    await running;

    // Every sample collected arrived once (in any order: batches left on the dropped socket went over HTTP while
    // newer ones took the new socket); nothing was left behind in the spool.
    expectEverySampleOnce();
    expect(readdirSync(path.join(stateDir, 'spool')).filter((name) => name.endsWith('.json.gz'))).toEqual([]);
    expect(server.violations).toEqual([]);
  });

  it("sends a backlog read back from the spool over HTTP, gzip'd as it lies, while new batches take the socket", async () => {
    // A previous run's spool: bodies on disk only.
    const spool = await Spool.open(path.join(stateDir, 'spool'));
    const now = Date.now();
    for (let seq = 1; seq <= 6; seq++) {
      const batch = buildBatch(server.hostId, seq, now, {
        samples: [{ ts: now - (7 - seq) * 10_000, load: { 1: 1000 + seq, 5: 0, 15: 0 } }],
        metrics: [],
        events: [],
      });
      await spool.write(seq, batch.batch_id, await encodeBatch(batch));
    }
    server.setCadence(LIVE_CADENCE);
    const { agent } = makeAgent();
    const running = agent.run();
    await until(
      () => [1, 2, 3, 4, 5, 6].every((seq) => server.received.some((b) => b.seq === seq)) && spooled().length === 0,
      'the old spool delivered',
    );
    await until(
      () => server.requests.some((r) => r.via === 'control' && r.status === 200),
      'a new batch on the socket',
    );
    agent.stop();
    await running;
    const viaOf = (seq: number) => server.requests.find((r) => r.seq === seq && r.status === 200)?.via;
    expect([1, 2, 3, 4, 5, 6].map(viaOf)).toEqual(Array(6).fill('http'));
    expect(server.violations).toEqual([]);
  });

  it('sends stored batches over the socket while it is open, not over HTTP, and an ack takes a spooled batch out of the spool', async () => {
    const clock = virtualClock();
    server.setClock(clock.now);
    server.setCadence(LIVE_CADENCE);
    // HTTP ingest is down and the socket refused at first: batches pile up in the spool.
    server.answer((_batch, via) => (via === 'http' ? SERVICE_DOWN : undefined));
    server.control.refuse.push(...Array(1000).fill(503));
    // Every waiting body stays in memory (a backlog read back from disk goes over HTTP: the next test).
    const { agent } = makeAgent({
      clock,
      queue: { memoryBatches: 1000, maxBytes: 64 * 1024 * 1024, maxBatches: 1000 },
    });
    const running = agent.run();
    await until(() => spooled().length >= 3, 'batches in the spool');
    const onDisk = spooled().map((name) => Number(name.slice(0, 16)));

    // The socket opens: the spooled batches and the new ones go over it, are acked, and leave the spool.
    server.control.refuse.length = 0;
    await until(
      () => onDisk.every((seq) => server.received.some((b) => b.seq === seq)) && server.received.length >= 10,
      'the spooled batches and newer ones over the socket',
    );
    await until(() => spooled().length === 0, 'an empty spool');
    const stored = server.requests.filter((r) => r.status === 200);
    expect(stored.every((r) => r.via === 'control')).toBe(true);
    expect(server.requests.filter((r) => r.via === 'http').every((r) => r.status === 503)).toBe(true);

    server.answer(() => undefined);
    agent.stop();
    expect(await running).toEqual({ kind: 'stopped' });
    expectEverySampleOnce();
    expect(spooled()).toEqual([]);
    expect(server.violations).toEqual([]);
  });

  it('handles a nack as the HTTP answer with that status and body: 409 replayed_seq renumbers, 422 drops', async () => {
    const clock = virtualClock();
    server.setClock(clock.now);
    server.setCadence(LIVE_CADENCE);
    const refused: Record<string, string> = {};
    server.answer((batch, via) => {
      if (via !== 'control' || Object.values(refused).includes(batch.batch_id)) return undefined;
      if (!refused.replayed) {
        refused.replayed = batch.batch_id;
        return { status: 409, body: { error: { code: 'replayed_seq', message: 'seq already used', lastSeq: 1000 } } };
      }
      if (!refused.invalid) {
        refused.invalid = batch.batch_id;
        return {
          status: 422,
          body: { error: { code: 'validation_failed', message: 'bad sample', path: 'samples.0.cpu.total' } },
        };
      }
      return undefined;
    });
    const { agent, log } = makeAgent({ clock });
    const running = agent.run();
    await until(() => Boolean(refused.invalid) && server.received.length >= 5, 'both nacks, then more batches');
    agent.stop();
    await running;

    // 409: the same batch again, numbered past the server's last seq, and numbering goes on from there.
    const renumbered = server.received.find((b) => b.batch_id === refused.replayed);
    expect(renumbered?.seq).toBeGreaterThan(1000);
    expect(log.lines.some((line) => line.includes('state folder restored or wiped'))).toBe(true);
    // 422: dropped, never sent again, and said with its code and path.
    expect(server.requests.filter((r) => r.batchId === refused.invalid)).toHaveLength(1);
    expect(server.received.map((b) => b.batch_id)).not.toContain(refused.invalid);
    expect(
      log.lines.some((line) => line.includes('422 validation_failed') && line.includes('samples.0.cpu.total')),
    ).toBe(true);
    expect(server.requests.filter((r) => r.status !== 200).every((r) => r.via === 'control')).toBe(true);
    expect(spooled()).toEqual([]);
    expect(server.violations).toEqual([]);
  });

  it('sends the batches a dropped socket left unanswered over HTTP: each stored once, none lost', async () => {
    const clock = virtualClock();
    server.setClock(clock.now);
    server.setCadence(LIVE_CADENCE);
    // First the answers are lost after the batches were stored, then the batches themselves are lost.
    server.control.withhold = 'stored';
    const { agent } = makeAgent({ clock });
    const running = agent.run();
    await until(() => server.control.batches >= 2, 'batches stored, their answers lost');
    server.control.withhold = 'discarded';
    const withheld = server.control.batches;
    await until(() => server.control.batches >= withheld + 2, 'batches lost on the way');
    const inFlight = server.control.batches;
    server.control.withhold = false;
    server.dropControl();
    await until(
      () => server.requests.filter((r) => r.via === 'http').length >= inFlight && agent.control === 'open',
      'the unanswered batches over HTTP, and the socket back',
    );
    const reconnected = server.requests.length;
    await until(
      () => server.requests.slice(reconnected).some((r) => r.via === 'control' && r.status === 200),
      'batches over the new socket',
    );
    agent.stop();
    await running;

    // The ones stored before their answer was lost were answered `duplicate` over HTTP, the lost ones stored.
    const overHttp = server.requests.filter((r) => r.via === 'http');
    expect(overHttp.some((r) => r.duplicate)).toBe(true);
    expect(overHttp.some((r) => !r.duplicate && r.status === 200)).toBe(true);
    expectEverySampleOnce();
    expect(spooled()).toEqual([]);
    expect(server.violations).toEqual([]);
  });

  it('gives up a socket that does not answer a batch in time: the batch goes over HTTP, and a new socket carries the next ones', async () => {
    const clock = virtualClock();
    server.setClock(clock.now);
    server.setCadence(LIVE_CADENCE);
    server.control.withhold = 'stored';
    const { agent, log } = makeAgent({ clock, control: { batchAnswerTimeoutMs: 300 } });
    const running = agent.run();
    await until(() => server.control.closedByAgent.includes(1001), 'the unanswering socket closed by the agent');
    server.control.withhold = false;
    await until(
      () => server.requests.some((r) => r.via === 'http' && r.duplicate),
      'a stored-but-unanswered batch over HTTP, answered duplicate',
    );
    const before = server.requests.length;
    await until(
      () => server.requests.slice(before).some((r) => r.via === 'control' && r.status === 200),
      'batches over a new socket',
    );
    agent.stop();
    await running;
    expect(server.control.attempts.filter((a) => a.status === 101).length).toBeGreaterThanOrEqual(2);
    expect(log.lines.some((line) => line.includes('no answer to a batch in time'))).toBe(true);
    expectEverySampleOnce();
    expect(spooled()).toEqual([]);
    expect(server.violations).toEqual([]);
  });

  it('sends a batch over CONTROL_MAX_BATCH_BYTES over HTTP, and one just under it over the socket in a 64-bit-length frame', async () => {
    const clock = virtualClock();
    server.setClock(clock.now);
    server.setCadence(LIVE_CADENCE);
    const intake = new IntakeBuffer(memoryLogger());
    const { agent } = makeAgent({ clock, intake });
    const running = agent.run();
    await until(() => agent.control === 'open', 'the socket');
    // Random text (so gzip cannot shrink it much) in events of 2,000 characters.
    const text = () =>
      Array.from({ length: 2000 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('');
    const events = (n: number, id: string) => {
      for (let i = 0; i < n; i++) intake.event({ ts: clock.now(), kind: 'job.log', id, message: text() });
    };
    events(200, 'big'); // ~420 kB of JSON: the socket, in a frame with a 64-bit length
    await until(() => server.received.some((b) => b.events?.[0]?.id === 'big'), 'the big batch');
    events(300, 'huge'); // ~630 kB: over the socket's size, so HTTP, gzip'd
    await until(() => server.received.some((b) => b.events?.[0]?.id === 'huge'), 'the huge batch');
    agent.stop();
    await running;
    const via = (id: string) => {
      const batch = server.received.find((b) => b.events?.[0]?.id === id);
      return server.requests.find((r) => r.batchId === batch?.batch_id)?.via;
    };
    expect(via('big')).toBe('control');
    expect(via('huge')).toBe('http');
    const big = server.received.find((b) => b.events?.[0]?.id === 'big');
    expect(JSON.stringify(big).length).toBeGreaterThan(65_536);
    expect(JSON.stringify(big).length).toBeLessThan(CONTROL_MAX_BATCH_BYTES);
    expect(server.violations).toEqual([]);
  });

  it('against a server that closes the socket on a batch (1003), sends every batch over HTTP and keeps the socket for cadences', async () => {
    const clock = virtualClock();
    server.setClock(clock.now);
    server.setCadence(LIVE_CADENCE);
    server.control.takesBatches = false;
    const { agent, log } = makeAgent({ clock });
    const running = agent.run();
    await until(() => server.control.batches + server.requests.length > 0 && agent.control === 'open', 'a first batch');
    const opened = () => server.control.attempts.filter((a) => a.status === 101).length;
    await until(() => opened() >= 2 && agent.control === 'open', 'the socket back');
    const before = server.received.length;
    await until(() => server.received.length >= before + 10, 'batches over HTTP');
    agent.stop();
    await running;
    // One batch tried the socket, at most; the socket came back once and stayed.
    expect(opened()).toBe(2);
    expect(server.requests.every((r) => r.via === 'http')).toBe(true);
    expect(log.lines.some((line) => line.includes('does not take batches'))).toBe(true);
    expectEverySampleOnce();
    expect(server.violations).toEqual([]);
  });
});
