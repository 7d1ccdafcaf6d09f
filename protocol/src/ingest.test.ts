import { describe, expect, it } from 'vitest';
import {
  AppEvent,
  CustomMetric,
  EnrollRequest,
  EnrollResponse,
  IngestBatch,
  IngestResponse,
  MAX_SAMPLES_PER_BATCH,
  ReplayedSeqErrorBody,
  Sample,
} from './ingest.ts';
import { fullBatch as batch, fullSample, TS } from './test-batch.ts';

/** Every path to a string leaf of `value`, e.g. ['samples', 0, 'disks', 0, 'mount']. */
function stringPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringPaths(item, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => stringPaths(item, [...path, key]));
  }
  return [];
}

function withValueAt(value: unknown, path: (string | number)[], replace: (old: string) => string): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1) as string | number;
  node[last] = replace(node[last] as string);
  return copy;
}

describe('ingest schemas', () => {
  it('accepts a full batch', () => {
    expect(IngestBatch.safeParse(batch).success).toBe(true);
  });

  it('accepts a sample with every section left out', () => {
    expect(Sample.parse({ ts: TS })).toEqual({ ts: TS });
  });

  it('rejects seconds where milliseconds are expected', () => {
    expect(Sample.safeParse({ ts: 1_800_000_000 }).success).toBe(false);
  });

  it('rejects non-finite and out-of-range numbers', () => {
    const bad = [
      { ...fullSample, cpu: { ...fullSample.cpu, total: 101 } },
      { ...fullSample, cpu: { ...fullSample.cpu, user: Number.NaN } },
      { ...fullSample, memory: { ...fullSample.memory, used: Number.POSITIVE_INFINITY } },
      { ...fullSample, disks: [{ ...fullSample.disks[0], used: -1 }] },
    ];
    for (const sample of bad) expect(Sample.safeParse(sample).success).toBe(false);
  });

  it('bounds the batch size and array lengths', () => {
    const tooMany = { ...batch, samples: Array.from({ length: MAX_SAMPLES_PER_BATCH + 1 }, () => ({ ts: TS })) };
    expect(IngestBatch.safeParse(tooMany).success).toBe(false);
    const cores = { ...fullSample, cpu: { ...fullSample.cpu, perCore: Array.from({ length: 1025 }, () => 1) } };
    expect(Sample.safeParse(cores).success).toBe(false);
  });

  it('requires a uuid batch id, a positive seq and some content', () => {
    expect(IngestBatch.safeParse({ ...batch, batch_id: 'x' }).success).toBe(false);
    expect(IngestBatch.safeParse({ ...batch, seq: 0 }).success).toBe(false);
    const empty = IngestBatch.safeParse({ ...batch, samples: [], metrics: [], events: [], facts: undefined });
    expect(empty.success).toBe(false);
  });

  it('checks custom metrics per kind', () => {
    expect(CustomMetric.safeParse({ name: 'a', kind: 'gauge', value: 1, ts: TS }).success).toBe(true);
    expect(CustomMetric.safeParse({ name: 'a', kind: 'histogram', value: 1, ts: TS }).success).toBe(false);
    expect(CustomMetric.safeParse({ name: 'a', kind: 'summary', value: 1, ts: TS }).success).toBe(false);
    expect(CustomMetric.safeParse({ name: 'has space', kind: 'gauge', value: 1, ts: TS }).success).toBe(false);
    const labels = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));
    expect(CustomMetric.safeParse({ name: 'a', kind: 'gauge', value: 1, ts: TS, labels }).success).toBe(false);
  });

  it('checks application events', () => {
    expect(AppEvent.safeParse({ ts: TS, kind: 'job.failed', id: 'j', message: 'boom' }).success).toBe(true);
    expect(AppEvent.safeParse({ ts: TS, kind: 'job.progress', id: 'j', progress: 1.5 }).success).toBe(false);
    expect(AppEvent.safeParse({ ts: TS, kind: 'job.progress', id: '' }).success).toBe(false);
  });

  it('describes enrollment and the ingest response', () => {
    const facts = batch.facts;
    const enroll = EnrollRequest.parse({
      publicKey: 'A'.repeat(43),
      machineId: 'abc',
      hostname: 'vm',
      facts,
      agentVersion: '0.1.0',
    });
    expect(enroll.labels).toEqual({});
    expect(EnrollRequest.safeParse({ ...enroll, publicKey: 'A'.repeat(44) }).success).toBe(false);
    const cadence = { collectIntervalMs: 10_000, pushIntervalMs: 30_000, live: false };
    expect(EnrollResponse.safeParse({ hostId: 'h', ingestUrl: 'https://x/api/v1/ingest', cadence }).success).toBe(true);
    expect(IngestResponse.safeParse({ accepted: 3, duplicate: false, cadence }).success).toBe(true);
    expect(
      IngestResponse.safeParse({ accepted: 3, duplicate: false, cadence: { ...cadence, collectIntervalMs: 10 } })
        .success,
    ).toBe(false);
  });

  it('refuses NUL and unpaired surrogates in every string field of a batch and of an enrollment', () => {
    const enroll = {
      publicKey: 'A'.repeat(43),
      machineId: 'abc',
      hostname: 'vm',
      name: 'web',
      labels: { env: 'prod' },
      facts: batch.facts,
      agentVersion: '0.1.0',
    };
    const cases: [typeof IngestBatch | typeof EnrollRequest, unknown][] = [
      [IngestBatch, batch],
      [EnrollRequest, enroll],
    ];
    for (const [schema, valid] of cases) {
      expect(schema.safeParse(valid).success).toBe(true);
      const paths = stringPaths(valid);
      expect(paths.length).toBeGreaterThan(10);
      for (const path of paths) {
        for (const bad of ['\0', '\uD800', '\uDC00x']) {
          const result = schema.safeParse(withValueAt(valid, path, (old) => `${old.slice(0, 1)}${bad}`));
          expect(result.success, `${path.join('.')} with ${JSON.stringify(bad)}`).toBe(false);
        }
      }
    }
    // A well-formed pair (an emoji) is fine.
    expect(IngestBatch.safeParse(withValueAt(batch, ['events', 0, 'message'], () => 'done 😀')).success).toBe(true);
  });

  it('refuses event progress that a float4 column cannot hold', () => {
    const event = { ts: TS, kind: 'job.progress', id: 'j' };
    expect(AppEvent.safeParse({ ...event, progress: 1e-46 }).success).toBe(false);
    expect(AppEvent.safeParse({ ...event, progress: 1e-38 }).success).toBe(false);
    expect(AppEvent.safeParse({ ...event, progress: 0 }).success).toBe(true);
    expect(AppEvent.safeParse({ ...event, progress: 1e-6 }).success).toBe(true);
  });

  it('describes the 409 answer with the highest stored seq', () => {
    const body = { error: { code: 'replayed_seq', message: 'used', lastSeq: 41 } };
    expect(ReplayedSeqErrorBody.parse(body).error.lastSeq).toBe(41);
    expect(ReplayedSeqErrorBody.safeParse({ error: { code: 'replayed_seq', message: 'used' } }).success).toBe(false);
  });
});
