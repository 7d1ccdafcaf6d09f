/**
 * Runs tasks one after another per key, in the order they were queued. The object's input gate
 * does not hold while it waits on the network (a Postgres query), so two messages of one socket
 * could otherwise be handled interleaved, and out of order.
 */
export class PerKeyQueue {
  readonly #tails = new Map<string, Promise<void>>();

  run(key: string, task: () => Promise<void>): Promise<void> {
    const current = (this.#tails.get(key) ?? Promise.resolve()).then(task);
    const tail = current.catch(() => {});
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return current;
  }
}
