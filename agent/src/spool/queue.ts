import type { Logger } from '../log.ts';
import type { Spool } from './spool.ts';

export interface QueueLimits {
  /** Batches whose bodies stay in memory; older ones are read back from the spool when their turn comes. */
  memoryBatches: number;
  maxBytes: number;
  maxBatches: number;
}

interface Pending {
  seq: number;
  batchId: string;
  /** Absent once spilled: the body is then only on disk. */
  body?: Uint8Array<ArrayBuffer>;
  onDisk: boolean;
}

export interface NextBatch {
  seq: number;
  batchId: string;
  body: Uint8Array<ArrayBuffer>;
  /** Its body was read back from the spool (a backlog beyond `memoryBatches`, or a previous run's). */
  spilled: boolean;
}

/**
 * Batches waiting to be delivered, newest first. A fresh batch lives in memory only; the first time its
 * delivery fails it is written to the spool, so from then on it survives restarts and `kill -9`. Bodies
 * beyond `memoryBatches` are spilled (dropped from memory, kept on disk). The spool is bounded in bytes and
 * in files: the oldest batches go first, and the count is logged.
 */
export class BatchQueue {
  readonly #spool: Spool;
  readonly #limits: QueueLimits;
  readonly #log: Logger;
  readonly #pending = new Map<number, Pending>();
  #dropped = 0;

  constructor(spool: Spool, limits: QueueLimits, log: Logger) {
    this.#spool = spool;
    this.#limits = limits;
    this.#log = log;
    // What a previous run left on disk is queued again; bodies are read when sent.
    for (const entry of spool.list()) {
      this.#pending.set(entry.seq, { seq: entry.seq, batchId: entry.batchId, onDisk: true });
    }
  }

  /** Batches waiting, in memory or on disk. */
  get depth(): number {
    return this.#pending.size;
  }

  get spoolDepth(): number {
    return this.#spool.depth;
  }

  /** Batches that exist only in memory: not delivered and not yet written to the spool. */
  get memoryOnly(): number {
    let count = 0;
    for (const item of this.#pending.values()) if (!item.onDisk) count++;
    return count;
  }

  /** Batches dropped because the spool was full, since start. */
  get dropped(): number {
    return this.#dropped;
  }

  has(seq: number): boolean {
    return this.#pending.has(seq);
  }

  add(seq: number, batchId: string, body: Uint8Array<ArrayBuffer>): void {
    this.#pending.set(seq, { seq, batchId, body, onDisk: false });
  }

  /** The newest waiting batch (leaving out `except`), without removing it. */
  async peek(except?: ReadonlySet<number>): Promise<NextBatch | undefined> {
    let newest: Pending | undefined;
    for (const item of this.#pending.values()) {
      if (except?.has(item.seq)) continue;
      if (!newest || item.seq > newest.seq) newest = item;
    }
    if (!newest) return undefined;
    const spilled = newest.body === undefined;
    const body = newest.body ?? (await this.#spool.read(newest.seq));
    return { seq: newest.seq, batchId: newest.batchId, body, spilled };
  }

  /** Delivered (or refused for good): forget it everywhere. */
  async remove(seq: number): Promise<void> {
    const item = this.#pending.get(seq);
    this.#pending.delete(seq);
    if (item?.onDisk) await this.#spool.remove(seq);
  }

  /**
   * The same batch under a new seq (and so a new body, since seq is in it): the server had `oldSeq` from another
   * batch. A batch that was on disk is written under its new name before the old file goes, so a crash between
   * leaves both, and the second send is answered as a duplicate (same batch id), never lost.
   */
  async renumber(oldSeq: number, newSeq: number, body: Uint8Array<ArrayBuffer>): Promise<void> {
    const item = this.#pending.get(oldSeq);
    if (!item) return;
    this.#pending.set(newSeq, { seq: newSeq, batchId: item.batchId, body, onDisk: false });
    if (item.onDisk) await this.persist(newSeq);
    await this.remove(oldSeq);
  }

  /** Makes a batch durable; called when its first delivery attempt failed. */
  async persist(seq: number): Promise<void> {
    const item = this.#pending.get(seq);
    if (!item || item.onDisk || !item.body) return;
    await this.#spool.write(item.seq, item.batchId, item.body);
    item.onDisk = true;
    await this.#enforce();
  }

  /** Shutdown: everything still waiting goes to disk. */
  async persistAll(): Promise<void> {
    for (const item of this.#pending.values()) {
      if (!item.onDisk && item.body) {
        await this.#spool.write(item.seq, item.batchId, item.body);
        item.onDisk = true;
      }
    }
    await this.#enforce();
  }

  async #enforce(): Promise<void> {
    // Spill: keep only the newest bodies in memory (they are all on disk by now or about to be sent).
    const newestFirst = [...this.#pending.values()].sort((a, b) => b.seq - a.seq);
    for (const item of newestFirst.slice(this.#limits.memoryBatches)) {
      if (item.onDisk) item.body = undefined;
    }
    const dropped = await this.#spool.enforceBounds(this.#limits.maxBytes, this.#limits.maxBatches);
    if (dropped > 0) {
      for (const seq of [...this.#pending.keys()]) {
        const item = this.#pending.get(seq);
        if (item?.onDisk && !this.#spool.has(seq)) this.#pending.delete(seq);
      }
      this.#dropped += dropped;
      this.#log.warn(`spool full: dropped the ${dropped} oldest batches`, {
        droppedTotal: this.#dropped,
        spoolBytes: this.#spool.bytes,
        spoolBatches: this.#spool.depth,
      });
    }
  }
}
