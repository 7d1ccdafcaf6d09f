import path from 'node:path';
import { readFile } from '../fs.ts';
import { writeFileDurable } from './atomic-file.ts';

/** How many sequence numbers are reserved per durable write. */
const BLOCK = 1000;

/**
 * The per-host batch sequence, monotonic across restarts and crashes without an fsync per batch: a block of
 * numbers is reserved on disk before any of it is used, and a restart continues after the reserved block.
 * A crash therefore leaves a gap in seq, never a repeat (the Worker rejects a repeated seq under a new batch id).
 * What this file cannot see is its own past: restored from an old snapshot, or deleted while the config (and so
 * the host) lives on, it hands out numbers the server has. The server's 409 then names its last seq, and
 * `skipPast` moves the counter beyond it.
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

  /**
   * The server has stored `seq` already (its 409 says so): the counter went back, e.g. a restored snapshot or a
   * wiped state folder. Numbers up to `seq` are never handed out again, durably; `next()` continues above it.
   */
  async skipPast(seq: number): Promise<void> {
    if (seq <= this.#current) return;
    this.#current = seq;
    if (this.#current >= this.#reserved) {
      this.#reserved = this.#current + BLOCK;
      await writeFileDurable(this.#file, JSON.stringify({ reserved: this.#reserved }));
    }
  }
}
