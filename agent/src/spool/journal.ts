import path from 'node:path';
import { Sample } from '@pulsewire/protocol';
import { access, appendFile, mkdir, OpenFile, readFile, rename, unlink } from '../fs.ts';
import { syncDir } from './atomic-file.ts';

const OPEN_FILE = 'open.jsonl';
const CUT_FILE = 'cut.jsonl';

/**
 * Write-ahead journal of collected samples that are not yet in a durable place, so that `kill -9` between
 * a collection and the next successful push (or spool write) loses nothing.
 *
 * - `open.jsonl` takes each sample as it is collected (append + fdatasync: one small write per collection).
 * - Cutting batches seals it: its lines move to `cut.jsonl` (appended when one is already there).
 * - Once every batch cut from those lines is delivered or spooled, `cut.jsonl` is deleted.
 *
 * After a crash both files are read back into the next batch. A sample that had in fact reached the server
 * is sent again under a new batch id; that is harmless because the server stores samples keyed by
 * (host, timestamp), so each is kept once. Application metrics and events are not journaled (they are
 * aggregated in memory per push interval): see agent/README.md.
 */
export class SampleJournal {
  readonly dir: string;
  #handle: OpenFile | undefined;
  #cutHeld = false;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Opens the journal and returns the samples a previous run left in it, oldest first, without duplicates. */
  static async open(dir: string): Promise<{ journal: SampleJournal; recovered: Sample[] }> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const journal = new SampleJournal(dir);
    journal.#cutHeld = await exists(journal.#path(CUT_FILE));
    const lines = [...(await readLines(journal.#path(CUT_FILE))), ...(await readLines(journal.#path(OPEN_FILE)))];
    const byTs = new Map<number, Sample>();
    for (const line of lines) {
      const sample = parseLine(line);
      if (sample) byTs.set(sample.ts, sample);
    }
    const recovered = [...byTs.values()].sort((a, b) => a.ts - b.ts);
    // What was recovered now waits for the next cut like any collected sample: it stays in the journal.
    await journal.seal();
    if (recovered.length === 0) await journal.release();
    return { journal, recovered };
  }

  #path(name: string): string {
    return path.join(this.dir, name);
  }

  /** Records one collected sample durably. */
  async append(sample: Sample): Promise<void> {
    this.#handle ??= await OpenFile.open(this.#path(OPEN_FILE), 'a', 0o600);
    await this.#handle.write(`${JSON.stringify(sample)}\n`);
    await this.#handle.datasync();
  }

  /** The samples collected so far are being cut into batches: move them to the cut file. */
  async seal(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
    const openPath = this.#path(OPEN_FILE);
    const pending = await readFile(openPath, 'utf8').catch(() => undefined);
    if (pending === undefined) return;
    if (this.#cutHeld) {
      await appendFile(this.#path(CUT_FILE), pending, { mode: 0o600 });
      const cut = await OpenFile.open(this.#path(CUT_FILE), 'r');
      await cut.datasync().finally(() => cut.close());
      await unlink(openPath);
    } else {
      await rename(openPath, this.#path(CUT_FILE));
    }
    await syncDir(this.dir);
    this.#cutHeld = true;
  }

  /** Every batch cut from the sealed samples is delivered or spooled: forget them. */
  async release(): Promise<void> {
    await unlink(this.#path(CUT_FILE)).catch(() => undefined);
    this.#cutHeld = false;
  }

  /** True while sealed samples wait for their batches to become durable. */
  get holdsCut(): boolean {
    return this.#cutHeld;
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function readLines(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((line) => line.length > 0);
}

/** A line torn by a crash mid-write, or anything else that is not a sample, is skipped. */
function parseLine(line: string): Sample | undefined {
  try {
    const parsed = Sample.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
