import path from 'node:path';
import { mkdir, readdir, readFile, stat, unlink } from '../fs.ts';
import { TMP_SUFFIX, writeFileDurable } from './atomic-file.ts';

/** One batch on disk: its body exactly as it will be sent (gzip'd JSON), named so that names sort by seq. */
export interface SpoolEntry {
  seq: number;
  batchId: string;
  file: string;
  bytes: number;
}

const NAME = /^(\d{16})-([0-9a-f-]{36})\.json\.gz$/;

export function spoolFileName(seq: number, batchId: string): string {
  return `${String(seq).padStart(16, '0')}-${batchId}.json.gz`;
}

/**
 * The on-disk half of the batch queue: one file per batch, written durably, so batches survive restarts and
 * `kill -9`. Only the folder listing is kept in memory.
 */
export class Spool {
  readonly dir: string;
  readonly #entries = new Map<number, SpoolEntry>();
  #bytes = 0;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Opens (creating) the folder, removes half-written temporary files and indexes the batches there. */
  static async open(dir: string): Promise<Spool> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const spool = new Spool(dir);
    for (const name of await readdir(dir)) {
      if (name.endsWith(TMP_SUFFIX)) {
        await unlink(path.join(dir, name)).catch(() => undefined);
        continue;
      }
      const match = NAME.exec(name);
      if (!match) continue;
      const file = path.join(dir, name);
      const info = await stat(file).catch(() => undefined);
      if (!info) continue;
      spool.#add({ seq: Number(match[1]), batchId: match[2] as string, file, bytes: info.size });
    }
    return spool;
  }

  #add(entry: SpoolEntry) {
    const existing = this.#entries.get(entry.seq);
    if (existing) this.#bytes -= existing.bytes;
    this.#entries.set(entry.seq, entry);
    this.#bytes += entry.bytes;
  }

  get depth(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  has(seq: number): boolean {
    return this.#entries.has(seq);
  }

  /** Newest first: the live view recovers before the backfill. */
  list(): SpoolEntry[] {
    return [...this.#entries.values()].sort((a, b) => b.seq - a.seq);
  }

  maxSeq(): number {
    let max = 0;
    for (const seq of this.#entries.keys()) max = Math.max(max, seq);
    return max;
  }

  async write(seq: number, batchId: string, body: Uint8Array): Promise<void> {
    const file = path.join(this.dir, spoolFileName(seq, batchId));
    await writeFileDurable(file, body);
    this.#add({ seq, batchId, file, bytes: body.byteLength });
  }

  async read(seq: number): Promise<Uint8Array<ArrayBuffer>> {
    const entry = this.#entries.get(seq);
    if (!entry) throw new Error(`batch ${seq} is not in the spool`);
    return new Uint8Array(await readFile(entry.file));
  }

  async remove(seq: number): Promise<void> {
    const entry = this.#entries.get(seq);
    if (!entry) return;
    this.#entries.delete(seq);
    this.#bytes -= entry.bytes;
    await unlink(entry.file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /** Deletes the oldest batches until both bounds hold; returns how many went. */
  async enforceBounds(maxBytes: number, maxBatches: number): Promise<number> {
    let dropped = 0;
    const oldestFirst = this.list().reverse();
    for (const entry of oldestFirst) {
      if (this.#bytes <= maxBytes && this.#entries.size <= maxBatches) break;
      await this.remove(entry.seq);
      dropped++;
    }
    return dropped;
  }
}
