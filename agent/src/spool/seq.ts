import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileDurable } from './atomic-file.ts';

/** How many sequence numbers are reserved per durable write. */
const BLOCK = 1000;

/**
 * The per-host batch sequence, monotonic across restarts and crashes without an fsync per batch: a block of
 * numbers is reserved on disk before any of it is used, and a restart continues after the reserved block.
 * A crash therefore leaves a gap in seq, never a repeat (the Worker rejects a repeated seq under a new batch id).
 */
export class SeqCounter {
  readonly #file: string;
  #current: number;
  #reserved: number;

  private constructor(file: string, current: number, reserved: number) {
    this.#file = file;
    this.#current = current;
    this.#reserved = reserved;
  }

  static async open(stateDir: string, atLeast = 0): Promise<SeqCounter> {
    const file = path.join(stateDir, 'seq.json');
    let reserved = 0;
    try {
      const json = JSON.parse(await readFile(file, 'utf8')) as { reserved?: unknown };
      if (typeof json.reserved === 'number' && Number.isSafeInteger(json.reserved)) reserved = json.reserved;
    } catch {
      // First start, or a damaged file: the spool's highest seq (atLeast) still keeps us monotonic.
    }
    const start = Math.max(reserved, atLeast);
    return new SeqCounter(file, start, start);
  }

  get current(): number {
    return this.#current;
  }

  async next(): Promise<number> {
    this.#current++;
    if (this.#current > this.#reserved) {
      this.#reserved = this.#current + BLOCK - 1;
      await writeFileDurable(this.#file, JSON.stringify({ reserved: this.#reserved }));
    }
    return this.#current;
  }
}
