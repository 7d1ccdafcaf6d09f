import { gunzipSync } from 'node:zlib';
import { IngestBatch, type Sample } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { batchJson, batchJsonBytes, buildBatch, encodeBatch } from './batch.ts';

const disk = (mount: string) => ({ mount, fs: '/dev/sda1', type: 'ext4', size: 10, used: 1, usedPct: 10 });

describe('batch encoding', () => {
  it('cleans strings the server could not store, so one odd name does not get a whole batch refused', async () => {
    const samples: Sample[] = [
      { ts: Date.now(), disks: [disk('/mnt/usb\0stick'), disk('/mnt/\uD800half'), disk('/mnt/😀')] },
    ];
    const batch = buildBatch('h_test', 1, Date.now(), {
      samples,
      metrics: [{ name: 'jobs', kind: 'gauge', value: 1, ts: Date.now(), labels: { queue: 'a\0b' } }],
      events: [],
    });
    expect(IngestBatch.safeParse(batch).success).toBe(false);
    const sent = JSON.parse(gunzipSync(await encodeBatch(batch)).toString('utf8'));
    expect(IngestBatch.safeParse(sent).success).toBe(true);
    expect(sent.samples[0].disks.map((d: { mount: string }) => d.mount)).toEqual([
      '/mnt/usb\uFFFDstick',
      '/mnt/\uFFFDhalf',
      '/mnt/😀',
    ]);
    expect(sent.metrics[0].labels).toEqual({ queue: 'a\uFFFDb' });
  });

  it('leaves a clean batch byte for byte as JSON.stringify writes it (a literal backslash-u included)', () => {
    const batch = buildBatch('h_test', 1, Date.now(), {
      samples: [{ ts: Date.now(), disks: [disk('C:\\u0000dir')] }],
      metrics: [],
      events: [],
    });
    expect(batchJson(batch)).toBe(JSON.stringify(batch));
  });

  it('gives back the JSON bytes of a wire body for the control socket, or nothing when they are over the limit', async () => {
    const batch = buildBatch('h_test', 1, Date.now(), {
      samples: [{ ts: Date.now(), load: { 1: 0.5, 5: 0.25, 15: 0.125 } }],
      metrics: [],
      events: [{ ts: Date.now(), kind: 'job.log', id: 'j', message: 'é'.repeat(1500) }],
    });
    const json = batchJson(batch);
    const body = await encodeBatch(batch);
    const bytes = await batchJsonBytes(body, 1_000_000);
    expect(Buffer.from(bytes ?? []).toString('utf8')).toBe(json);
    expect(bytes?.byteLength).toBe(Buffer.byteLength(json));
    // Over the limit: told by gzip's trailer, without inflating.
    expect(await batchJsonBytes(body, Buffer.byteLength(json) - 1)).toBeUndefined();
    expect(await batchJsonBytes(body, Buffer.byteLength(json))).toBeDefined();
  });
});
