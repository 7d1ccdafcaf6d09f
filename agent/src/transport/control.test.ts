import {
  type Cadence,
  CONTROL_CLOSE,
  CONTROL_MAX_BATCH_BYTES,
  CONTROL_MAX_BATCHES_IN_FLIGHT,
  generateHostKeyPair,
  importPrivateKey,
  LIVE_CADENCE,
} from '@pulsewire/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchJson, buildBatch } from '../batch.ts';
import { memoryLogger } from '../log.ts';
import { type IngestServer, startIngestServer, until } from '../test/ingest-server.ts';
import { Backoff } from './backoff.ts';
import {
  type BatchAnswer,
  ControlChannel,
  type ControlChannelOptions,
  type ControlState,
  controlUrl,
} from './control.ts';
import { encodeFrame, FrameReader, OPCODE } from './websocket.ts';

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

  it('sends a batch signed over its JSON bytes and hands back the ack, or the nack with the HTTP status and body', async () => {
    const { channel } = await start();
    await until(() => channel.acceptsBatches, 'the socket');
    const stored = await channel.sendBatch(socketBatch(1));
    expect(stored).toMatchObject({ kind: 'ack', ack: { type: 'ack', accepted: 1, duplicate: false } });
    // The same batch again: stored once, answered duplicate.
    const again = socketBatch(1, stored.kind === 'ack' ? stored.ack.batch_id : undefined);
    expect(await channel.sendBatch(again)).toMatchObject({ kind: 'ack', ack: { accepted: 0, duplicate: true } });
    // Another batch under a stored seq: the Worker's 409, its `lastSeq` in the error object as over HTTP.
    expect(await channel.sendBatch(socketBatch(1))).toMatchObject({
      kind: 'nack',
      nack: { status: 409, error: { code: 'replayed_seq', lastSeq: 1 } },
    });
    expect(server.received.map((b) => b.seq)).toEqual([1]);
    expect(server.violations).toEqual([]);
  });

  it('keeps at most CONTROL_MAX_BATCHES_IN_FLIGHT unanswered, and hands them all back when the socket closes', async () => {
    const { channel } = await start();
    await until(() => channel.acceptsBatches, 'the socket');
    server.control.withhold = 'stored';
    const answers: Promise<BatchAnswer>[] = [];
    for (let seq = 1; seq <= CONTROL_MAX_BATCHES_IN_FLIGHT + 3; seq++)
      answers.push(channel.sendBatch(socketBatch(seq)));
    expect(channel.batchesInFlight).toBe(CONTROL_MAX_BATCHES_IN_FLIGHT);
    expect(channel.acceptsBatches).toBe(false);
    const over = await Promise.all(answers.slice(CONTROL_MAX_BATCHES_IN_FLIGHT));
    expect(over.every((answer) => answer.kind === 'fallback')).toBe(true);
    await until(() => server.control.batches === CONTROL_MAX_BATCHES_IN_FLIGHT, 'the batches on the server');

    // The object asks for a new connection: every unanswered batch comes back for HTTP, and the socket reopens.
    server.closeControl(CONTROL_CLOSE.reconnect, 'reconnect');
    const handedBack = await Promise.all(answers.slice(0, CONTROL_MAX_BATCHES_IN_FLIGHT));
    expect(handedBack.every((answer) => answer.kind === 'fallback')).toBe(true);
    expect(channel.batchesInFlight).toBe(0);
    await until(() => channel.acceptsBatches && server.control.attempts.length === 2, 'a new socket');
    expect(server.control.maxInFlight).toBe(CONTROL_MAX_BATCHES_IN_FLIGHT);
    expect(server.violations).toEqual([]);
  });

  it('frames a message of CONTROL_MAX_BATCH_BYTES with a 64-bit length, masked, and reads it back', () => {
    const text = `${'x'.repeat(CONTROL_MAX_BATCH_BYTES - 2)}é`; // 'é' is two bytes: exactly the limit
    const frame = encodeFrame(OPCODE.text, text, true);
    expect(frame[0]).toBe(0x80 | OPCODE.text);
    expect(frame[1]).toBe(0x80 | 127);
    expect(frame.readBigUInt64BE(2)).toBe(BigInt(CONTROL_MAX_BATCH_BYTES));
    expect(frame.length).toBe(2 + 8 + 4 + CONTROL_MAX_BATCH_BYTES);
    // Masked: the bytes on the wire are not the text.
    expect(frame.subarray(14, 14 + 64).toString('latin1')).not.toBe('x'.repeat(64));
    const [decoded, ...rest] = new FrameReader({ maxBytes: CONTROL_MAX_BATCH_BYTES, masked: true }).push(frame);
    expect(rest).toEqual([]);
    expect(decoded?.payload.toString('utf8')).toBe(text);
    // The 16-bit and 7-bit forms, from bytes too.
    for (const size of [125, 126, 65_535, 65_536]) {
      const bytes = new Uint8Array(size).fill(7);
      const [read] = new FrameReader({ maxBytes: size, masked: true }).push(encodeFrame(OPCODE.binary, bytes, true));
      expect(read?.payload.equals(Buffer.from(bytes))).toBe(true);
    }
  });
});

/** A valid one-sample batch as the socket carries it: its JSON bytes. */
function socketBatch(seq: number, batchId?: string) {
  const built = buildBatch(server.hostId, seq, Date.now(), {
    samples: [{ ts: Date.now(), load: { 1: seq, 5: 0, 15: 0 } }],
    metrics: [],
    events: [],
  });
  const batch = batchId ? { ...built, batch_id: batchId } : built;
  return { seq, batchId: batch.batch_id, json: new Uint8Array(Buffer.from(batchJson(batch), 'utf8')) };
}
