import { describe, expect, it } from 'vitest';
import { ClientMessage, MAX_UNACKED_BYTES, MAX_UNACKED_FRAMES, ServerMessage, streamErrorCodes } from './stream.ts';

const TS = 1_800_000_000_000;
const SEQ = TS * 1000 + 1;

describe('stream flow control messages', () => {
  it('requires seq on every data frame, and only on those', () => {
    const data = [
      { type: 'metrics', hostId: 'h1', samples: [{ ts: TS }] },
      { type: 'event', hostId: 'h1', event: { ts: TS, kind: 'job.done', id: 'j' } },
      {
        type: 'host_status',
        hostId: 'h1',
        status: 'online',
        previous: null,
        lastSeenAt: null,
        at: new Date(TS).toISOString(),
      },
      {
        type: 'alert',
        alert: {
          id: 'a',
          ruleId: 'r',
          ruleName: 'cpu',
          hostId: 'h1',
          level: 'critical',
          state: 'firing',
          metric: 'cpu.total',
          value: 97,
          threshold: 90,
          message: 'CPU at 97 %',
          at: new Date(TS).toISOString(),
        },
      },
    ];
    for (const frame of data) {
      expect(ServerMessage.safeParse(frame).success, frame.type).toBe(false);
      expect(ServerMessage.parse({ ...frame, seq: SEQ })).toMatchObject({ type: frame.type, seq: SEQ });
      expect(ServerMessage.safeParse({ ...frame, seq: 1.5 }).success).toBe(false);
    }
    expect(ServerMessage.parse({ type: 'pong', seq: SEQ })).toEqual({ type: 'pong' });
  });

  it('announces the bounds in hello', () => {
    const hello = {
      type: 'hello',
      protocol: 1,
      tenantId: 't',
      connectionId: 'c',
      serverTime: new Date(TS).toISOString(),
    };
    expect(ServerMessage.safeParse(hello).success).toBe(false);
    const flow = { maxUnackedFrames: MAX_UNACKED_FRAMES, maxUnackedBytes: MAX_UNACKED_BYTES };
    expect(ServerMessage.parse({ ...hello, flow })).toMatchObject({ flow: { maxUnackedFrames: 1000 } });
  });

  it('accepts an ack of a seq, and nothing else as one', () => {
    expect(ClientMessage.parse({ type: 'ack', seq: SEQ })).toEqual({ type: 'ack', seq: SEQ });
    for (const bad of [
      { type: 'ack' },
      { type: 'ack', seq: -1 },
      { type: 'ack', seq: '5' },
      { type: 'ack', seq: 0.5 },
    ]) {
      expect(ClientMessage.safeParse(bad).success).toBe(false);
    }
  });

  it('names the refused hosts and echoes the message id in unknown_host; knows slow_consumer', () => {
    expect(streamErrorCodes).toContain('slow_consumer');
    expect(
      ServerMessage.parse({ type: 'error', code: 'unknown_host', message: 'm', id: 's1', hostIds: ['h9'] }),
    ).toEqual({ type: 'error', code: 'unknown_host', message: 'm', id: 's1', hostIds: ['h9'] });
  });
});
