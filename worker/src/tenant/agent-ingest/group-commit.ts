/**
 * Commits queued items together: the first item is committed at once, and whatever arrives while commits are
 * under way waits and goes into the next, up to `maxItems` a commit and `concurrency` commits at once. Under a
 * trickle every item is committed alone, without waiting for a timer; under load the commits grow with the
 * queue, so the database sees one statement for many batches instead of one each, and with two at once it works
 * on one while the object prepares the next and answers the last.
 */
interface Queued<Item, Outcome> {
  item: Item;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<Item, Outcome> {
  readonly #commit: (items: Item[]) => Promise<Outcome[]>;
  readonly #maxItems: number;
  readonly #concurrency: number;
  readonly #onIdle: () => void;
  #queue: Queued<Item, Outcome>[] = [];
  #running = 0;

  constructor(options: {
    /** Commits the items in one go, answering one outcome per item in order; rejects when none was committed. */
    commit: (items: Item[]) => Promise<Outcome[]>;
    maxItems: number;
    /** Commits under way at once (default 1). */
    concurrency?: number;
    /** Called when the last commit ended and nothing is queued (e.g. to release a connection). */
    onIdle?: () => void;
  }) {
    this.#commit = options.commit;
    this.#maxItems = Math.max(1, options.maxItems);
    this.#concurrency = Math.max(1, options.concurrency ?? 1);
    this.#onIdle = options.onIdle ?? (() => {});
  }

  /** Items waiting for a commit, those under way excluded. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Resolves with the item's outcome once its commit ended; rejects with the commit's error when it failed. */
  submit(item: Item): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#queue.length > 0) {
      const group = this.#queue.splice(0, this.#maxItems);
      this.#running++;
      void this.#run(group);
    }
  }

  async #run(group: Queued<Item, Outcome>[]): Promise<void> {
    try {
      const outcomes = await this.#commit(group.map((entry) => entry.item));
      if (outcomes.length !== group.length) {
        throw new Error(`a commit of ${group.length} items answered ${outcomes.length} outcomes`);
      }
      for (const [i, entry] of group.entries()) entry.resolve(outcomes[i] as Outcome);
    } catch (error) {
      for (const entry of group) entry.reject(error);
    } finally {
      this.#running--;
    }
    this.#pump();
    if (this.#running === 0) this.#onIdle();
  }
}
