/**
 * Commits queued items together: the first item is committed at once, and whatever arrives while a commit is
 * under way waits for it and goes into the next, up to `maxItems` a commit. Under a trickle every item is
 * committed alone, without waiting for a timer; under load the commits grow with the queue, so the database
 * sees one statement for many batches instead of one each.
 */
export class GroupCommit<Item, Outcome> {
  readonly #commit: (items: Item[]) => Promise<Outcome[]>;
  readonly #maxItems: number;
  readonly #onIdle: () => void;
  #queue: { item: Item; resolve: (outcome: Outcome) => void; reject: (error: unknown) => void }[] = [];
  #running = false;

  constructor(options: {
    /** Commits the items in one go, answering one outcome per item in order; rejects when none was committed. */
    commit: (items: Item[]) => Promise<Outcome[]>;
    maxItems: number;
    /** Called when the last commit ended and nothing is queued (e.g. to release a connection). */
    onIdle?: () => void;
  }) {
    this.#commit = options.commit;
    this.#maxItems = Math.max(1, options.maxItems);
    this.#onIdle = options.onIdle ?? (() => {});
  }

  /** Items waiting for a commit, the one under way excluded. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Resolves with the item's outcome once its commit ended; rejects with the commit's error when it failed. */
  submit(item: Item): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const group = this.#queue.splice(0, this.#maxItems);
        try {
          const outcomes = await this.#commit(group.map((entry) => entry.item));
          if (outcomes.length !== group.length) {
            throw new Error(`a commit of ${group.length} items answered ${outcomes.length} outcomes`);
          }
          for (const [i, entry] of group.entries()) entry.resolve(outcomes[i] as Outcome);
        } catch (error) {
          for (const entry of group) entry.reject(error);
        }
      }
    } finally {
      this.#running = false;
    }
    this.#onIdle();
  }
}
