import type { HostListQuery } from '@pulsewire/protocol';

/**
 * Where the host list is: the name filter, the cursors of the pages walked so far (the API pages by keyset,
 * so going back means asking again with the earlier cursor), and the next page's cursor once known.
 * Immutable: each move answers a new pager.
 */
export class HostPager {
  readonly q: string;
  /** `cursors[i]` asks for page i; page 0 has none. */
  readonly #cursors: readonly (string | null)[];
  readonly #page: number;
  readonly #next: string | null;

  constructor(q = '', cursors: readonly (string | null)[] = [null], page = 0, next: string | null = null) {
    this.q = q;
    this.#cursors = cursors;
    this.#page = page;
    this.#next = next;
  }

  get isStart(): boolean {
    return this.#page === 0;
  }

  get hasNext(): boolean {
    return this.#next !== null;
  }

  /** Hosts on the pages before this one, when every page was full. */
  offset(pageSize: number): number {
    return this.#page * pageSize;
  }

  query(limit: number): HostListQuery {
    const cursor = this.#cursors[this.#page];
    return { limit, ...(this.q ? { q: this.q } : {}), ...(cursor ? { cursor } : {}) };
  }

  /** The answer to {@link query} said where the next page starts (null: this is the last). */
  answered(nextCursor: string | null): HostPager {
    return new HostPager(this.q, this.#cursors, this.#page, nextCursor);
  }

  next(): HostPager {
    if (this.#next === null) return this;
    return new HostPager(this.q, [...this.#cursors.slice(0, this.#page + 1), this.#next], this.#page + 1, null);
  }

  previous(): HostPager {
    if (this.#page === 0) return this;
    return new HostPager(this.q, this.#cursors, this.#page - 1, null);
  }
}
