import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../log.ts';
import { IntakeBuffer } from './aggregator.ts';
import { type HttpIntake, startHttpIntake } from './http.ts';

const NOW = 1_800_000_000_000;
let buffer: IntakeBuffer;
let intake: HttpIntake;
let base: string;

beforeEach(async () => {
  buffer = new IntakeBuffer(memoryLogger());
  intake = await startHttpIntake(buffer, memoryLogger(), { host: '127.0.0.1', port: 0 }, () => NOW);
  base = `http://127.0.0.1:${intake.port}`;
});
afterEach(async () => {
  await intake.close();
});

const post = (path: string, body: unknown) =>
  fetch(`${base}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('HTTP intake', () => {
  it('accepts job events (seed 002) in every accepted shape and stamps missing times', async () => {
    const one = await post('/events', {
      kind: 'job.started',
      id: 'job-42',
      name: 'scrape ebay',
      labels: { source: 'ebay' },
    });
    expect(one.status).toBe(202);
    expect(await one.json()).toEqual({ accepted: 1 });
    const many = await post('/events', {
      events: [
        { kind: 'job.progress', id: 'job-42', progress: 0.5, ts: '2027-01-15T08:00:00Z' },
        { kind: 'job.failed', id: 'job-42', message: 'proxy refused', ts: NOW + 5 },
      ],
    });
    expect(await many.json()).toEqual({ accepted: 2 });
    expect(buffer.flush(NOW).events).toEqual([
      { ts: NOW, kind: 'job.started', id: 'job-42', name: 'scrape ebay', labels: { source: 'ebay' } },
      { ts: Date.parse('2027-01-15T08:00:00Z'), kind: 'job.progress', id: 'job-42', progress: 0.5 },
      { ts: NOW + 5, kind: 'job.failed', id: 'job-42', message: 'proxy refused' },
    ]);
  });

  it('accepts metrics and aggregates them with StatsD semantics', async () => {
    const response = await post('/metrics', [
      { name: 'jobs.completed', kind: 'counter', value: 2, labels: { queue: 'a' } },
      { name: 'jobs.completed', kind: 'counter', value: 3, labels: { queue: 'a' } },
      { name: 'queue.size', value: 9 },
      { name: 'visitors', kind: 'set', value: 'u1' },
    ]);
    expect(response.status).toBe(202);
    expect(buffer.flush(NOW).metrics).toEqual([
      { name: 'jobs.completed', kind: 'counter', value: 5, ts: NOW, labels: { queue: 'a' } },
      { name: 'queue.size', kind: 'gauge', value: 9, ts: NOW },
      { name: 'visitors', kind: 'set', value: 1, ts: NOW },
    ]);
  });

  it('answers validation errors with the field at fault', async () => {
    const bad = await post('/events', { kind: 'job.progress', id: 'job-1', progress: 2 });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ error: { code: 'validation_failed', path: 'progress' } });
    const badMetric = await post('/metrics', { name: 'has spaces', value: 1 });
    expect(badMetric.status).toBe(422);
    expect(await badMetric.json()).toMatchObject({ error: { code: 'validation_failed', path: 'name' } });
    const notNumber = await post('/metrics', { name: 'x', kind: 'gauge', value: 'high' });
    expect(await notNumber.json()).toMatchObject({ error: { path: 'value' } });
    const oldTs = await post('/events', { kind: 'x', id: 'y', ts: 12 });
    expect(oldTs.status).toBe(422);
    expect((await post('/events', '{nope')).status).toBe(400);
    expect((await post('/nowhere', {})).status).toBe(404);
    expect((await fetch(`${base}/events`)).status).toBe(405);
    expect((await post('/events', 'x'.repeat(1024 * 1024 + 1))).status).toBe(413);
    expect(buffer.size).toBe(0);
  });

  it('refuses what the server could not store, at the intake, so it never rides in a batch with host samples', async () => {
    const nul = await post('/events', { kind: 'job.failed', id: 'job-1', message: 'bad \u0000 byte' });
    expect(await nul.json()).toMatchObject({ error: { code: 'validation_failed', path: 'message' } });
    const tiny = await post('/events', { kind: 'job.progress', id: 'job-1', progress: 1e-46 });
    expect(await tiny.json()).toMatchObject({ error: { code: 'validation_failed', path: 'progress' } });
    const label = await post('/metrics', { name: 'q', value: 1, labels: { queue: 'half \uD83D' } });
    expect(label.status).toBe(422);
    expect(buffer.size).toBe(0);
  });
});
