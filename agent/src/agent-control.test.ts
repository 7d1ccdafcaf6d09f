import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Cadence, LIVE_CADENCE } from '@pulsewire/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent, type AgentOptions } from './agent.ts';
import type { Clock } from './clock.ts';
import { SampleCollector } from './collectors/index.ts';
import { memoryLogger } from './log.ts';
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
    control: { backoff: new Backoff({ baseMs: 20, maxMs: 80, minMs: 0 }) },
    ...extra,
  });
  return { agent, log };
}

const values = () => server.received.flatMap((b) => b.samples.map((s) => s.load?.[1]));

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

    // Every sample collected arrived, in order, once; nothing was left behind in the spool.
    const got = values();
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
    expect(readdirSync(path.join(stateDir, 'spool')).filter((name) => name.endsWith('.json.gz'))).toEqual([]);
    expect(server.violations).toEqual([]);
  });
});
