import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { IngestBatch } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { buildBatch, encodeBatch, renumberBatch } from '../batch.ts';
import { memoryLogger } from '../log.ts';
import { until } from '../test/ingest-server.ts';
import { BatchQueue } from './queue.ts';
import { SeqCounter } from './seq.ts';
import { Spool } from './spool.ts';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'pw-spool-'));

async function encoded(seq: number) {
  const batch = buildBatch('h_test', seq, Date.now(), {
    samples: [{ ts: Date.now(), load: { 1: seq, 5: 0, 15: 0 } }],
    metrics: [],
    events: [],
  });
  return { batch, body: await encodeBatch(batch) };
}

describe('spool', () => {
  it('survives kill -9 mid-write: every complete batch replays exactly once, newest first', async () => {
    const dir = tmp();
    const writer = spawn(process.execPath, [path.join(import.meta.dirname, '../test/spool-writer.ts'), dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let lastDurable = 0;
    writer.stdout.on('data', (chunk: Buffer) => {
      const seqs = chunk.toString().trim().split('\n').map(Number);
      lastDurable = Math.max(lastDurable, ...seqs);
    });
    await until(() => lastDurable >= 40, 'the writer to spool 40 batches');
    writer.kill('SIGKILL');
    await new Promise((resolve) => writer.once('exit', resolve));

    const spool = await Spool.open(dir);
    // Every batch reported durable is there; at most the one in flight at the kill may be too.
    expect(spool.depth).toBeGreaterThanOrEqual(lastDurable);
    expect(spool.depth).toBeLessThanOrEqual(lastDurable + 1);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    const queue = new BatchQueue(spool, { memoryBatches: 8, maxBytes: 1e9, maxBatches: 1e6 }, memoryLogger());
    const replayed: number[] = [];
    for (let next = await queue.peek(); next; next = await queue.peek()) {
      const batch = IngestBatch.parse(JSON.parse(gunzipSync(next.body).toString('utf8')));
      expect(batch.seq).toBe(next.seq);
      expect(batch.batch_id).toBe(next.batchId);
      replayed.push(next.seq);
      await queue.remove(next.seq);
    }
    expect(replayed.length).toBeGreaterThanOrEqual(lastDurable);
    expect(replayed).toEqual(Array.from({ length: replayed.length }, (_, i) => replayed.length - i));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes half-written temporary files and ignores foreign files on open', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, '.0000000000000001-x.json.gz.abcd.tmp'), 'partial');
    writeFileSync(path.join(dir, 'README'), 'not a batch');
    const spool = await Spool.open(dir);
    expect(spool.depth).toBe(0);
    expect(readdirSync(dir)).toEqual(['README']);
  });

  it('keeps only fresh batches in memory until a delivery fails, then persists them', async () => {
    const dir = tmp();
    const queue = new BatchQueue(
      await Spool.open(dir),
      { memoryBatches: 2, maxBytes: 1e9, maxBatches: 100 },
      memoryLogger(),
    );
    for (let seq = 1; seq <= 3; seq++) {
      const { batch, body } = await encoded(seq);
      queue.add(seq, batch.batch_id, body);
    }
    expect(readdirSync(dir)).toEqual([]);
    await queue.persist(3);
    expect(readdirSync(dir)).toHaveLength(1);
    await queue.persistAll();
    expect(readdirSync(dir)).toHaveLength(3);
    expect((await queue.peek())?.seq).toBe(3);
  });

  it('drops the oldest batches beyond its bounds and logs how many', async () => {
    const dir = tmp();
    const log = memoryLogger();
    const queue = new BatchQueue(await Spool.open(dir), { memoryBatches: 2, maxBytes: 1e9, maxBatches: 10 }, log);
    for (let seq = 1; seq <= 15; seq++) {
      const { batch, body } = await encoded(seq);
      queue.add(seq, batch.batch_id, body);
      await queue.persist(seq);
    }
    expect(queue.depth).toBe(10);
    expect(queue.spoolDepth).toBe(10);
    expect(queue.dropped).toBe(5);
    const remaining = readdirSync(dir)
      .map((name) => Number(name.slice(0, 16)))
      .sort((a, b) => a - b);
    expect(remaining).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(log.lines.filter((line) => line.includes('spool full'))).toHaveLength(5);

    const bytes = new BatchQueue(await Spool.open(tmp()), { memoryBatches: 2, maxBytes: 1, maxBatches: 100 }, log);
    const { batch, body } = await encoded(1);
    bytes.add(1, batch.batch_id, body);
    await bytes.persist(1);
    expect(bytes.spoolDepth).toBe(0);
  });
});

describe('sequence counter', () => {
  it('is monotonic across restarts, reserving numbers in blocks', async () => {
    const dir = tmp();
    const first = await SeqCounter.open(dir);
    expect([await first.next(), await first.next()]).toEqual([1, 2]);
    // A crash here loses the in-memory position; the next run starts after the reserved block.
    const second = await SeqCounter.open(dir);
    const next = await second.next();
    expect(next).toBeGreaterThan(2);
    const third = await SeqCounter.open(tmp(), 5000);
    expect(await third.next()).toBe(5001);
  });

  it("skips past the server's last seq, durably, and never goes back", async () => {
    const dir = tmp();
    const counter = await SeqCounter.open(dir);
    await counter.next();
    await counter.skipPast(7500);
    expect(await counter.next()).toBe(7501);
    await counter.skipPast(10); // behind us: nothing changes
    expect(await counter.next()).toBe(7502);
    // Restarted (or crashed) right after the jump: still above the server's seq.
    const reopened = await SeqCounter.open(dir);
    expect(await reopened.next()).toBeGreaterThan(7502);
  });
});

describe('renumbering', () => {
  it('moves a spooled batch to a new seq: same id and content, the new seq in its body, durable first', async () => {
    const dir = tmp();
    const spool = await Spool.open(dir);
    const queue = new BatchQueue(spool, { memoryBatches: 4, maxBytes: 1e9, maxBatches: 100 }, memoryLogger());
    const { batch, body } = await encoded(3);
    queue.add(3, batch.batch_id, body);
    await queue.persist(3);
    await queue.renumber(3, 42, await renumberBatch(body, 42));
    expect(spool.list().map((e) => [e.seq, e.batchId])).toEqual([[42, batch.batch_id]]);
    const next = await queue.peek();
    const sent = IngestBatch.parse(JSON.parse(gunzipSync(next?.body ?? new Uint8Array()).toString('utf8')));
    expect(sent).toEqual({ ...batch, seq: 42 });
  });
});
