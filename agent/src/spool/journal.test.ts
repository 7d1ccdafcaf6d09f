import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Sample } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { SampleJournal } from './journal.ts';

const sample = (ts: number, load = 1): Sample => ({ ts, load: { 1: load, 5: 0, 15: 0 } });
const T0 = 1_790_000_000_000;

describe('sample journal', () => {
  it('gives back, after a crash, every sample appended and not yet released, oldest first and once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pw-journal-'));
    const first = await SampleJournal.open(dir);
    expect(first.recovered).toEqual([]);
    await first.journal.append(sample(T0 + 1000));
    await first.journal.append(sample(T0 + 2000));
    await first.journal.seal(); // cut into a batch that was never delivered nor spooled
    await first.journal.append(sample(T0 + 3000));
    await first.journal.close(); // the process "dies" here; closing only frees the descriptor
    // A write torn by the crash leaves half a line.
    appendFileSync(path.join(dir, 'open.jsonl'), '{"ts":17900000040');

    const second = await SampleJournal.open(dir);
    expect(second.recovered.map((s) => s.ts)).toEqual([T0 + 1000, T0 + 2000, T0 + 3000]);
    // Recovered samples stay journaled until their batch is durable: a second crash loses nothing either.
    const third = await SampleJournal.open(dir);
    expect(third.recovered.map((s) => s.ts)).toEqual([T0 + 1000, T0 + 2000, T0 + 3000]);
    await Promise.all([second.journal.close(), third.journal.close()]);
  });

  it('forgets sealed samples on release, but keeps those collected after the seal', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pw-journal-'));
    const { journal } = await SampleJournal.open(dir);
    await journal.append(sample(T0 + 1000));
    await journal.seal();
    expect(journal.holdsCut).toBe(true);
    await journal.append(sample(T0 + 2000));
    await journal.seal(); // a second cut while the first is still in flight appends to the cut file
    await journal.append(sample(T0 + 3000));
    expect(readFileSync(path.join(dir, 'cut.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    await journal.release();
    expect(existsSync(path.join(dir, 'cut.jsonl'))).toBe(false);
    await journal.close();
    const reopened = await SampleJournal.open(dir);
    expect(reopened.recovered.map((s) => s.ts)).toEqual([T0 + 3000]);
    await reopened.journal.close();
  });

  it('skips lines that are not samples instead of failing to start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pw-journal-'));
    appendFileSync(path.join(dir, 'open.jsonl'), `not json\n{"ts":12}\n${JSON.stringify(sample(T0 + 5000))}\n`);
    const { journal, recovered } = await SampleJournal.open(dir);
    expect(recovered.map((s) => s.ts)).toEqual([T0 + 5000]);
    await journal.close();
  });
});
