import { describe, expect, it } from 'vitest';
import type { CpuShare, IngestRun } from './ingest.ts';
import { cpuBound, ingestLogLines, ingestResults, refusalsText } from './ingest-report.ts';

const share = (msPerBatch: number, batches: number): CpuShare => ({
  ms: msPerBatch * batches,
  msPerBatch,
  pct: 0,
});

/** A run of `batches` 132-value batches in 20 s, with workerd at `workerdMs` per batch. */
function run(path: IngestRun['path'], batches: number, workerdMs: number, bareValuesPerSecond: number): IngestRun {
  const values = batches * 132;
  return {
    path,
    hosts: path === 'http' ? 50 : 160,
    samplesPerBatch: 3,
    concurrency: path === 'http' ? 16 : 160 * 32,
    ...(path === 'socket' ? { inFlightPerSocket: 32 } : {}),
    seconds: 20,
    batches,
    samples: batches * 3,
    customPoints: batches * 9,
    values,
    valuesPerSecond: values / 20,
    batchesPerSecond: batches / 20,
    valuesPerBatch: 132,
    wireBytesPerBatch: path === 'http' ? 1100 : 7000,
    jsonBytesPerBatch: 6700,
    answerMs: { count: batches, p50: 40, p95: 80, p99: 90, max: 120 },
    refused: path === 'socket' ? { '429 rate_limited': 3 } : {},
    ...(path === 'socket' ? { socketsClosed: { '1008 more than 32 batches unanswered': 1 } } : {}),
    cpu: {
      workerd: share(workerdMs, batches),
      wrangler: share(0.5, batches),
      database: share(4, batches),
      relay: share(0, batches),
      pooler: share(0, batches),
      loadGenerator: share(1.5, batches),
      machine: share(20, batches),
    },
    baseline: {
      sampleRows: batches * 3,
      customRows: batches * 9,
      values,
      seconds: values / bareValuesPerSecond,
      valuesPerSecond: bareValuesPerSecond,
      connections: 2,
      cpuPerBatch: { database: 0.4, client: 0.1 },
    },
  };
}

describe('ingest rows', () => {
  const http = run('http', 2_000, 8, 200_000);
  const socket = run('socket', 20_000, 1, 300_000);
  const rows = ingestResults(
    [
      { database: 'PGlite', path: 'http', run: http },
      { database: 'PGlite', path: 'socket', run: socket },
    ],
    2,
  );

  it('gives each path its own row, in the order measured', () => {
    expect(rows).toHaveLength(2);
    expect(rows[0]?.name).toMatch(/^ingest throughput, signed HTTP POSTs, 50 hosts, .*16 in flight \(PGlite;/);
    expect(rows[1]?.name).toMatch(
      /^ingest throughput, batch messages on control sockets, 160 hosts, .*32 in flight per socket/,
    );
  });

  it('puts each path against the bare insert of its own rows in the same run', () => {
    expect(rows[0]).toMatchObject({ value: 13_200, unit: 'values/s', baseline: { value: 200_000 }, ratio: 0.07 });
    expect(rows[1]).toMatchObject({ value: 132_000, baseline: { value: 300_000 }, ratio: 0.44 });
  });

  it('says the answer time, the workerd CPU per batch and the refusals by code', () => {
    expect(rows[0]?.name).toContain('POST p50 40 / p99 90 ms, workerd 8 ms CPU per batch)');
    expect(rows[1]?.name).toContain(
      'send → ack p50 40 / p99 90 ms, workerd 1 ms CPU per batch; refused: 429 rate_limited 3; sockets closed by the server: 1008 more than 32 batches unanswered 1)',
    );
  });

  it('checks both halves of the bar', () => {
    expect(rows[0]?.met).toBe(false);
    // 132,000 values/s clears 100,000 but is 44 % of the bare insert.
    expect(rows[1]?.met).toBe(false);
    const fast = ingestResults([{ database: 'PGlite', path: 'socket', run: run('socket', 20_000, 1, 200_000) }], 2);
    expect(fast[0]?.met).toBe(true);
  });

  it('reports a path that could not be measured, without a figure', () => {
    const [row] = ingestResults([{ database: 'PGlite', path: 'socket', error: 'the socket closed (1003)' }]);
    expect(row?.name).toContain('batch messages on control sockets (PGlite): not measured: the socket closed (1003)');
    expect(row?.value).toBeNaN();
    expect(row?.met).toBe(false);
  });

  it('logs each path with its own answer time and wire size', () => {
    const lines = ingestLogLines({ database: 'PGlite', path: 'socket', run: socket }, 2);
    expect(lines[0]).toContain('PGlite, batch messages on control sockets: 132000 values/s, 1000 batches/s');
    expect(lines[0]).toContain('7000 B message per batch); send → ack p50 40 ms, p99 90 ms');
    expect(ingestLogLines({ database: 'PGlite', path: 'http', run: http }, 2)[0]).toContain(
      '1100 B gzip per batch); POST p50 40 ms',
    );
  });
});

describe('cpuBound', () => {
  it('divides the cores by this benchmark’s CPU per batch, the machine’s other work left out', () => {
    // 8 + 0.5 + 4 + 0 + 0 + 1.5 = 14 ms per batch on 2 cores.
    expect(cpuBound(run('http', 100, 8, 1), 2)).toEqual({
      msPerBatch: 14,
      batchesPerSecond: 2000 / 14,
      valuesPerSecond: (2000 / 14) * 132,
    });
  });
});

describe('refusalsText', () => {
  it('lists refusals by why, or says none', () => {
    expect(refusalsText({})).toBe('none');
    expect(refusalsText({ '429 rate_limited': 2, unanswered: 1 })).toBe('429 rate_limited 2, unanswered 1');
  });
});
