import { type Cadence, generateHostKeyPair, importPrivateKey, LIVE_CADENCE } from '@pulsewire/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../log.ts';
import { type IngestServer, startIngestServer, until } from '../test/ingest-server.ts';
import { Backoff } from './backoff.ts';
import { ControlChannel, type ControlChannelOptions, type ControlState, controlUrl } from './control.ts';

let server: IngestServer;
let channel: ControlChannel | undefined;
beforeEach(async () => {
  server = await startIngestServer();
});
afterEach(async () => {
  channel?.close();
  await server.close();
});

const IDLE: Cadence = { collectIntervalMs: 10_000, pushIntervalMs: 30_000, live: false };

/** A backoff whose every delay is recorded: base 40 ms, cap 160 ms, jitter fixed at half the ceiling. */
function recordingBackoff() {
  const delays: number[] = [];
  const backoff = new Backoff({ baseMs: 40, maxMs: 160, minMs: 0, random: () => 0.5 });
  const next = backoff.next.bind(backoff);
  const longest = backoff.longest.bind(backoff);
  backoff.next = (retryAfterMs?: number) => {
    const delay = next(retryAfterMs);
    delays.push(delay);
    return delay;
  };
  backoff.longest = () => {
    const delay = longest();
    delays.push(delay);
    return delay;
  };
  return { backoff, delays };
}

async function start(options: Partial<ControlChannelOptions> = {}) {
  const cadences: Cadence[] = [];
  const states: ControlState[] = [];
  channel = new ControlChannel({
    ingestUrl: server.ingestUrl,
    hostId: server.hostId,
    privateKey: await importPrivateKey(server.keys.privateKey),
    log: memoryLogger(),
    onCadence: (cadence) => cadences.push(cadence),
    onState: (state) => states.push(state),
    ...options,
  });
  channel.start();
  return { channel, cadences, states };
}

describe('control socket', () => {
  it('lives on the ingest origin, under any path prefix the ingest URL has', () => {
    expect(controlUrl('https://pulsewire.example/api/v1/ingest').href).toBe(
      'https://pulsewire.example/api/v1/agents/control',
    );
    expect(controlUrl('http://127.0.0.1:8787/eu/api/v1/ingest').href).toBe(
      'http://127.0.0.1:8787/eu/api/v1/agents/control',
    );
  });

  it('hears the cadence on accept and every change at once, answers keep-alives, and closes cleanly', async () => {
    const { channel, cadences } = await start({ keepaliveMs: 50 });
    await until(() => cadences.length === 1, 'the cadence sent on accept');
    expect(channel.open).toBe(true);
    expect(cadences).toEqual([IDLE]);

    server.setCadence(LIVE_CADENCE, { tell: true });
    await until(() => cadences.length === 2, 'the live cadence');
    expect(cadences[1]).toEqual(LIVE_CADENCE);
    await until(() => server.control.pings >= 2, 'keep-alives');

    channel.close();
    expect(channel.state).toBe('closed');
    await until(() => server.control.closedByAgent.length === 1, 'the close frame');
    expect(server.control.closedByAgent).toEqual([1000]);
    expect(server.control.attempts.map((a) => a.status)).toEqual([101]);
    expect(server.violations).toEqual([]);
  });

  it('reconnects with capped exponential backoff and jitter after refusals and drops', async () => {
    const { backoff, delays } = recordingBackoff();
    server.control.refuse.push(503, 503, 503, 503);
    const { channel, cadences, states } = await start({ backoff });
    await until(() => channel.open, 'the socket to open after four refusals');
    expect(server.control.attempts.map((a) => a.status)).toEqual([503, 503, 503, 503, 101]);
    // Ceilings 40, 80, 160, 160 (capped), each delay half its ceiling (the fixed "random" 0.5).
    expect(delays).toEqual([20, 40, 80, 80]);
    expect(cadences).toEqual([IDLE]);

    // A drop right after opening is no sign of health: the backoff goes on from where it was.
    server.dropControl();
    await until(() => server.control.attempts.length === 6 && channel.open, 'a reconnection after the drop');
    expect(delays).toEqual([20, 40, 80, 80, 80]);
    expect(states).toEqual([
      ...Array(4).fill(['connecting', 'backoff']).flat(),
      'connecting',
      'open',
      'backoff',
      'connecting',
      'open',
    ]);
    expect(cadences).toEqual([IDLE, IDLE]);
    expect(server.violations).toEqual([]);
  });

  it('starts the backoff afresh after a connection that stayed up', async () => {
    const { backoff, delays } = recordingBackoff();
    server.control.refuse.push(503, 503);
    const { channel } = await start({ backoff, stableMs: 0 });
    await until(() => channel.open, 'the socket to open');
    server.dropControl();
    await until(() => server.control.attempts.length === 4 && channel.open, 'a reconnection after the drop');
    expect(delays).toEqual([20, 40, 20]);
  });

  it('retries a refused signature at the longest backoff only', async () => {
    const { backoff, delays } = recordingBackoff();
    const stranger = await generateHostKeyPair();
    const { channel } = await start({ backoff, privateKey: await importPrivateKey(stranger.privateKey) });
    await until(() => delays.length === 1, 'the refusal');
    expect(server.control.attempts[0]?.status).toBe(401);
    expect(delays).toEqual([160]);
    expect(channel.open).toBe(false);
    server.violations.length = 0;
  });
});
