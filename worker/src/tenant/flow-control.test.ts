import { MAX_TENANT_UNACKED_BYTES, MAX_UNACKED_BYTES, MAX_UNACKED_FRAMES } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { dataFrame, FlowControl, READER_ALLOWANCE_BYTES } from './flow-control.ts';

describe('FlowControl', () => {
  it('admits frames up to the frame bound, and an ack frees exactly the frames up to its seq', () => {
    const flow = new FlowControl();
    for (let seq = 1; seq <= MAX_UNACKED_FRAMES; seq++) expect(flow.admit('s', seq, 10)).toBe(true);
    expect(flow.admit('s', MAX_UNACKED_FRAMES + 1, 10)).toBe(false);
    expect(flow.admit('other', 1, 10)).toBe(true); // per socket

    flow.ack('s', 2); // frees seqs 1 and 2
    expect(flow.admit('s', MAX_UNACKED_FRAMES + 1, 10)).toBe(true);
    expect(flow.admit('s', MAX_UNACKED_FRAMES + 2, 10)).toBe(true);
    expect(flow.admit('s', MAX_UNACKED_FRAMES + 3, 10)).toBe(false);
    flow.ack('s', 1); // already freed: nothing changes
    expect(flow.admit('s', MAX_UNACKED_FRAMES + 3, 10)).toBe(false);
  });

  it('bounds the bytes outstanding, but lets a socket that is all caught up take one frame of any size', () => {
    const flow = new FlowControl();
    const half = MAX_UNACKED_BYTES / 2;
    expect(flow.admit('s', 1, half)).toBe(true);
    expect(flow.admit('s', 2, half)).toBe(true);
    expect(flow.admit('s', 3, 1)).toBe(false);
    flow.ack('s', 1);
    expect(flow.admit('s', 3, half)).toBe(true);

    flow.ack('s', 3);
    expect(flow.admit('s', 4, MAX_UNACKED_BYTES * 2)).toBe(true);
    expect(flow.admit('s', 5, 1)).toBe(false);

    flow.forget('s');
    expect(flow.admit('s', 6, 1)).toBe(true);
  });

  it('calls an ack past the newest frame sent to the socket forged, and lets stale acks pass', () => {
    const flow = new FlowControl();
    expect(flow.ack('s', 99)).toBe('ok'); // nothing sent since wake-up: an ack from before it
    flow.admit('s', 10, 5);
    flow.admit('other', 11, 5);
    expect(flow.ack('s', 11)).toBe('forged'); // 11 went to another socket only
    expect(flow.ack('s', 9)).toBe('ok');
    expect(flow.ack('s', 10)).toBe('ok');
    expect(flow.admit('s', 12, MAX_UNACKED_BYTES)).toBe(true);
    expect(flow.ack('s', Number.MAX_SAFE_INTEGER)).toBe('forged');
  });

  it('bounds the bytes of all sockets together beyond each reader allowance, naming the sockets furthest behind first', () => {
    const A = READER_ALLOWANCE_BYTES;
    const flow = new FlowControl(1000);
    flow.admit('a', 1, A + 300);
    flow.admit('b', 2, A + 500);
    flow.admit('c', 3, 100);
    expect(flow.tenantBytes).toBe(800);
    expect(flow.overTenantBound()).toEqual([]);
    flow.admit('a', 4, 300); // beyond the allowance: a 600, b 500, c 0 = 1100
    expect(flow.overTenantBound()).toEqual(['a']);
    flow.forget('a');
    expect(flow.tenantBytes).toBe(500);
    flow.ack('b', 2);
    expect(flow.tenantBytes).toBe(0);
    flow.admit('c', 5, A); // c: A + 100 outstanding, 100 beyond
    expect(flow.tenantBytes).toBe(100);
    flow.admit('b', 6, A + 2000);
    expect(flow.overTenantBound()).toEqual(['b']);
  });

  it('never counts readers that keep within their allowance, however many there are', () => {
    const flow = new FlowControl(MAX_TENANT_UNACKED_BYTES);
    // 10,000 dashboards each holding a few seconds of 3 KB frames, as a live view acks: 60 MB outstanding.
    for (let socket = 0; socket < 10_000; socket++) {
      flow.admit(`s${socket}`, 1, 3000);
      flow.admit(`s${socket}`, 2, 3000);
    }
    expect(flow.tenantBytes).toBe(0);
    expect(flow.overTenantBound()).toEqual([]);
    // One that stopped reading counts as soon as it is past its allowance.
    for (let seq = 3; flow.tenantBytes === 0 && seq < 100; seq++) flow.admit('s0', seq, 3000);
    expect(flow.tenantBytes).toBeGreaterThan(0);
  });

  it('measures a data frame in UTF-8 bytes, as sent', () => {
    const frame = dataFrame({
      type: 'event',
      seq: 7,
      hostId: 'h1',
      event: { ts: 1, kind: 'job.done', id: 'j', message: 'café ✓' },
    });
    expect(frame.seq).toBe(7);
    expect(frame.bytes).toBe(frame.text.length + 3); // é: 2 bytes, ✓: 3 bytes
    expect(JSON.parse(frame.text)).toMatchObject({ type: 'event', seq: 7 });
  });
});
