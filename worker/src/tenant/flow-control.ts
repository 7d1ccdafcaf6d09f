import {
  ACK_AFTER_BYTES,
  MAX_TENANT_UNACKED_BYTES,
  MAX_UNACKED_BYTES,
  MAX_UNACKED_FRAMES,
  type ServerMessage,
} from '@pulsewire/protocol';

/** Frames sent to one socket and not yet acknowledged, oldest first (parallel arrays: a few bytes per frame). */
interface Window {
  seqs: number[];
  sizes: number[];
  bytes: number;
  /** The newest seq sent to this socket since the object woke: no honest ack names a later one. */
  lastSent: number;
}

/**
 * What a socket may hold unacknowledged without counting against the tenant's bound: a reader acks once this
 * much waits (`protocol/src/stream-ack.ts`), so a socket within it is keeping up, whatever it last acked. Without
 * it, thousands of healthy sockets each holding several seconds of frames would add up past the bound and be
 * closed as slow consumers; the bound is for the readers that stopped.
 */
export const READER_ALLOWANCE_BYTES = ACK_AFTER_BYTES;

const beyondAllowance = (bytes: number): number => Math.max(0, bytes - READER_ALLOWANCE_BYTES);

/** `forged`: the ack names a frame never sent to this socket, so its acks cannot be trusted. */
export type AckVerdict = 'ok' | 'forged';

/**
 * What each socket has been sent and not acknowledged (`ack`), so that a reader that stopped reading
 * is noticed: workerd exposes no `bufferedAmount` on a server socket and buffers without bound, in
 * the tenant object's memory, for a peer that does not read.
 *
 * Memory only, on purpose: an attachment write per frame sent would cost more than the frame. After
 * the object wakes from hibernation every window starts empty; that forgets what was outstanding, in
 * the client's favour, once per wake-up, and an object busy sending to a socket does not hibernate.
 */
export class FlowControl {
  readonly #windows = new Map<string, Window>();
  /**
   * Unacknowledged bytes of every socket together beyond each one's reader allowance: what the object may be
   * holding for readers that fell behind.
   */
  #tenantBytes = 0;
  readonly #tenantBound: number;

  constructor(tenantBound = MAX_TENANT_UNACKED_BYTES) {
    this.#tenantBound = tenantBound;
  }

  /**
   * Records a frame about to be sent. False when it would take the socket past either bound: the
   * frame must not be sent and the socket is a slow consumer. A socket with nothing outstanding
   * always takes the frame, however large, since it has kept up so far. `force`: the frame is one
   * page of a snapshot the socket just asked for, which must arrive whole (it still counts).
   */
  admit(connectionId: string, seq: number, bytes: number, force = false): boolean {
    let window = this.#windows.get(connectionId);
    if (!window) {
      window = { seqs: [], sizes: [], bytes: 0, lastSent: 0 };
      this.#windows.set(connectionId, window);
    }
    const empty = window.seqs.length === 0;
    if (!force && !empty && (window.seqs.length + 1 > MAX_UNACKED_FRAMES || window.bytes + bytes > MAX_UNACKED_BYTES)) {
      return false;
    }
    const before = beyondAllowance(window.bytes);
    window.seqs.push(seq);
    window.sizes.push(bytes);
    window.bytes += bytes;
    window.lastSent = Math.max(window.lastSent, seq);
    this.#tenantBytes += beyondAllowance(window.bytes) - before;
    return true;
  }

  /**
   * The client has every frame up to `seq`. An ack past the newest frame sent to this socket is a
   * claim no reader can make (a client acking without reading, to be sent more): `forged`. Acks from
   * before the object last woke name older seqs than any sent since, so they are merely stale.
   */
  ack(connectionId: string, seq: number): AckVerdict {
    const window = this.#windows.get(connectionId);
    if (!window) return 'ok';
    if (seq > window.lastSent) return 'forged';
    const before = beyondAllowance(window.bytes);
    let count = 0;
    while (count < window.seqs.length && (window.seqs[count] ?? Number.POSITIVE_INFINITY) <= seq) {
      window.bytes -= window.sizes[count] ?? 0;
      count++;
    }
    this.#tenantBytes += beyondAllowance(window.bytes) - before;
    window.seqs.splice(0, count);
    window.sizes.splice(0, count);
    return 'ok';
  }

  forget(connectionId: string): void {
    const window = this.#windows.get(connectionId);
    if (window) this.#tenantBytes -= beyondAllowance(window.bytes);
    this.#windows.delete(connectionId);
  }

  /** Unacknowledged bytes across every socket, beyond each one's reader allowance. */
  get tenantBytes(): number {
    return this.#tenantBytes;
  }

  /**
   * When the sockets together hold more than the tenant bound, the sockets to close (furthest behind
   * first, by bytes outstanding) to come back under it; empty otherwise. O(1) while under the bound.
   */
  overTenantBound(): string[] {
    if (this.#tenantBytes <= this.#tenantBound) return [];
    const behind = [...this.#windows].sort((a, b) => b[1].bytes - a[1].bytes);
    const victims: string[] = [];
    let total = this.#tenantBytes;
    for (const [id, window] of behind) {
      const counted = beyondAllowance(window.bytes);
      if (total <= this.#tenantBound || counted === 0) break;
      victims.push(id);
      total -= counted;
    }
    return victims;
  }
}

const encoder = new TextEncoder();

/** The server messages that carry `seq` and count against a socket's flow bounds. */
export type DataMessage = Extract<
  ServerMessage,
  { type: 'metrics' | 'event' | 'alert' | 'host_status' | 'host_statuses' }
>;

/** A data message serialised once, to go unchanged to every socket that takes it. */
export interface DataFrame {
  seq: number;
  text: string;
  bytes: number;
}

export function dataFrame(message: DataMessage): DataFrame {
  const text = JSON.stringify(message);
  return { seq: message.seq, text, bytes: encoder.encode(text).byteLength };
}
