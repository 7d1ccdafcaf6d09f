import StatsD from 'hot-shots';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../log.ts';
import { until } from '../test/ingest-server.ts';
import { IntakeBuffer } from './aggregator.ts';
import { parseStatsdLine, type StatsdListener, startStatsd } from './statsd.ts';

let listener: StatsdListener | undefined;
afterEach(async () => {
  await listener?.close();
  listener = undefined;
});

const TS = 1_800_000_000_000;

describe('StatsD listener', () => {
  it('aggregates what the hot-shots client sends: counters, gauges, timers, histograms, sets, tags', async () => {
    const buffer = new IntakeBuffer(memoryLogger());
    listener = await startStatsd(buffer, memoryLogger(), { host: '127.0.0.1', port: 0 });
    const client = new StatsD({
      host: '127.0.0.1',
      port: listener.port,
      maxBufferSize: 0,
      errorHandler: () => undefined,
    });
    client.increment('jobs.done', 1, { queue: 'emails' });
    client.increment('jobs.done', 2, { queue: 'emails' });
    client.increment('jobs.done', 5, { queue: 'sms' });
    client.gauge('queue.size', 12);
    client.gauge('queue.size', 7);
    for (const ms of [10, 20, 30, 40]) client.timing('job.duration', ms, ['worker:a']);
    client.histogram('payload.bytes', 512);
    client.distribution('payload.bytes', 1024);
    for (const user of ['ann', 'bob', 'ann']) client.set('users.active', user);
    const lines = 3 + 2 + 4 + 2 + 3;
    await until(() => (listener?.stats.lines ?? 0) >= lines, 'the datagrams');
    await new Promise<void>((resolve) => client.close(() => resolve()));

    const { metrics } = buffer.flush(TS);
    const byKey = Object.fromEntries(metrics.map((m) => [`${m.kind} ${m.name} ${JSON.stringify(m.labels ?? {})}`, m]));
    expect(byKey['counter jobs.done {"queue":"emails"}']).toMatchObject({ value: 3, ts: TS });
    expect(byKey['counter jobs.done {"queue":"sms"}']).toMatchObject({ value: 5 });
    expect(byKey['gauge queue.size {}']).toMatchObject({ value: 7 });
    expect(byKey['histogram job.duration {"worker":"a"}']).toMatchObject({
      hist: { count: 4, sum: 100, min: 10, max: 40, p50: 20, p90: 40, p99: 40 },
    });
    expect(byKey['histogram payload.bytes {}']).toMatchObject({ hist: { count: 2, sum: 1536, min: 512, max: 1024 } });
    expect(byKey['set users.active {}']).toMatchObject({ value: 2 });
    expect(listener.stats.refused).toBe(0);
    expect(buffer.flush(TS + 1000).metrics).toEqual([]);
  });

  it('parses the StatsD dialects and refuses what it cannot read', () => {
    expect(parseStatsdLine('a.b:3|c|@0.1|#env:prod,canary')).toEqual([
      { name: 'a.b', kind: 'counter', value: 3, sampleRate: 0.1, labels: { env: 'prod', canary: '' } },
    ]);
    expect(parseStatsdLine('temp:-2|g')).toEqual([{ name: 'temp', kind: 'gauge', value: -2, relative: true }]);
    expect(parseStatsdLine('lat:1:2:3|ms')).toHaveLength(3);
    for (const bad of ['nocolon|c', 'x:1|zz', 'x:abc|c', 'x:1', 'x:1|c|@2', ':1|c'])
      expect(parseStatsdLine(bad)).toBeUndefined();
  });

  it('counts and logs refused lines once', async () => {
    const log = memoryLogger();
    const buffer = new IntakeBuffer(log);
    listener = await startStatsd(buffer, log, { host: '127.0.0.1', port: 0 });
    const client = new StatsD({
      host: '127.0.0.1',
      port: listener.port,
      maxBufferSize: 0,
      errorHandler: () => undefined,
    });
    client.gauge('bad name with spaces', 1);
    client.gauge('bad name with spaces', 2);
    await until(() => (listener?.stats.refused ?? 0) >= 2, 'the refused lines');
    await new Promise<void>((resolve) => client.close(() => resolve()));
    expect(log.lines.filter((line) => line.includes('statsd: refused'))).toHaveLength(1);
  });
});

describe('intake buffer', () => {
  it('scales sampled counters and timers by their sample rate', () => {
    const buffer = new IntakeBuffer(memoryLogger());
    buffer.observe({ name: 'c', kind: 'counter', value: 1, sampleRate: 0.1 });
    buffer.observe({ name: 't', kind: 'histogram', value: 5, sampleRate: 0.5 });
    const { metrics } = buffer.flush(TS);
    expect(metrics).toContainEqual({ name: 'c', kind: 'counter', value: 10, ts: TS });
    expect(metrics).toContainEqual(
      expect.objectContaining({ name: 't', hist: expect.objectContaining({ count: 2, sum: 10 }) }),
    );
  });

  it('applies relative gauges to the last value and bounds series', () => {
    const log = memoryLogger();
    const buffer = new IntakeBuffer(log, { maxSeries: 2 });
    buffer.observe({ name: 'g', kind: 'gauge', value: 10 });
    buffer.flush(TS);
    buffer.observe({ name: 'g', kind: 'gauge', value: -3, relative: true });
    expect(buffer.observe({ name: 'other', kind: 'counter', value: 1 })).toBe(true);
    expect(buffer.observe({ name: 'third', kind: 'counter', value: 1 })).toBe(false);
    const { metrics } = buffer.flush(TS);
    expect(metrics).toContainEqual({ name: 'g', kind: 'gauge', value: 7, ts: TS });
    expect(log.lines.some((line) => line.includes('droppedSeries=1'))).toBe(true);
  });

  it('refuses an observation that would overflow a sum to Infinity (sent as null, refused with the batch)', () => {
    const buffer = new IntakeBuffer(memoryLogger());
    expect(buffer.observe({ name: 'c', kind: 'counter', value: 1e308 })).toBe(true);
    expect(buffer.observe({ name: 'c', kind: 'counter', value: 1e308 })).toBe(false);
    expect(buffer.observe({ name: 'g', kind: 'gauge', value: 1.7e308 })).toBe(true);
    expect(buffer.observe({ name: 'g', kind: 'gauge', value: 1.7e308, relative: true })).toBe(false);
    expect(buffer.observe({ name: 't', kind: 'histogram', value: 1e308 })).toBe(true);
    expect(buffer.observe({ name: 't', kind: 'histogram', value: 1e308 })).toBe(false);
    const { metrics } = buffer.flush(TS);
    expect(JSON.stringify(metrics)).not.toContain('null');
    expect(metrics.find((m) => m.name === 'c')).toMatchObject({ value: 1e308 });
  });
});
