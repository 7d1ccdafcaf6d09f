/**
 * The two ways a stored batch reaches the tenant object, as the `ingest` bench measures them (pure, unit-tested):
 * - `http`: the signed, gzip'd POST of today's agent (a Worker request, an object RPC, a database connection per
 *   request);
 * - `socket`: the same signed batch, uncompressed, as a `batch` message on the agent's control WebSocket
 *   (protocol/src/control.ts), which the object verifies, commits with the tenant's other pending batches and
 *   answers `ack` / `nack`.
 */
import { CONTROL_MAX_BATCHES_IN_FLIGHT } from '@pulsewire/protocol';

export const INGEST_PATHS = ['http', 'socket'] as const;
export type IngestPath = (typeof INGEST_PATHS)[number];

/** What a run measures by default: both, HTTP first (today's path, then the one that would replace it). */
export const DEFAULT_INGEST_PATHS: readonly IngestPath[] = INGEST_PATHS;

/**
 * Hosts on the socket path by default: HTTP's 50, so both paths run on the same enrolled hosts. What bounds the
 * socket path's throughput is batches in flight, not hosts: the object commits the tenant's queued batches in one
 * statement (at most 1,000 a commit) while the next ones queue, and each socket may have only
 * CONTROL_MAX_BATCHES_IN_FLIGHT (32) unanswered, so the load is hosts × 32. HTTP's 16 in flight would leave the
 * commits small; 50 × 32 = 1,600 is more than a full commit queued behind the one running. On the 2-core bench
 * machine the rate stopped growing from about 500 in flight (bench/README.md, "Ingest over the control socket"), so
 * 1,600 leaves room for a faster machine; past the knee more in flight only lengthens the send → ack time (in
 * flight ÷ rate), which is then queueing.
 */
export const DEFAULT_SOCKET_HOSTS = 50;

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** `--ingest-path http,socket`: a comma-separated subset, run in the order given, each once. */
export function parseIngestPaths(text: string): Parsed<IngestPath[]> {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) return { ok: false, message: `choose one or more of ${INGEST_PATHS.join(', ')}` };
  const paths: IngestPath[] = [];
  for (const name of names) {
    if (!(INGEST_PATHS as readonly string[]).includes(name)) {
      return { ok: false, message: `choose from ${INGEST_PATHS.join(', ')}, got "${name}"` };
    }
    if (!paths.includes(name as IngestPath)) paths.push(name as IngestPath);
  }
  return { ok: true, value: paths };
}

/**
 * `--ingest-socket-in-flight`: batches each socket keeps unanswered. More than the protocol's cap would have the
 * object close the socket (1008), so it is refused here rather than measured as a failure.
 */
export function parseSocketInFlight(text: string): Parsed<number> {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > CONTROL_MAX_BATCHES_IN_FLIGHT) {
    return {
      ok: false,
      message: `an integer from 1 to ${CONTROL_MAX_BATCHES_IN_FLIGHT} (CONTROL_MAX_BATCHES_IN_FLIGHT), got "${text}"`,
    };
  }
  return { ok: true, value: n };
}

/**
 * One control socket's batches sent and not yet answered, never more than `cap` (the object closes a socket that
 * exceeds CONTROL_MAX_BATCHES_IN_FLIGHT with 1008). Times are whatever clock the caller passes (ms).
 */
export class InFlightWindow {
  readonly cap: number;
  readonly #sentAt = new Map<string, number>();

  constructor(cap: number = CONTROL_MAX_BATCHES_IN_FLIGHT) {
    if (!Number.isInteger(cap) || cap < 1) throw new Error(`an in-flight cap is a positive integer, got ${cap}`);
    this.cap = cap;
  }

  get size(): number {
    return this.#sentAt.size;
  }

  /** How many more may be sent now. */
  get room(): number {
    return this.cap - this.#sentAt.size;
  }

  /** Records a send; throws when the window is full or the id is already out (a bench bug, not a measurement). */
  sent(batchId: string, at: number): void {
    if (this.#sentAt.size >= this.cap) throw new Error(`${this.cap} batches already in flight`);
    if (this.#sentAt.has(batchId)) throw new Error(`batch ${batchId} is already in flight`);
    this.#sentAt.set(batchId, at);
  }

  /** The answer to `batchId`: its time since sent, or undefined for an id this window did not send (or answered). */
  answered(batchId: string, at: number): number | undefined {
    const sentAt = this.#sentAt.get(batchId);
    if (sentAt === undefined) return undefined;
    this.#sentAt.delete(batchId);
    return at - sentAt;
  }

  /** Forgets every batch still out (the socket closed, or the wait for answers timed out); answers how many. */
  abandon(): number {
    const n = this.#sentAt.size;
    this.#sentAt.clear();
    return n;
  }
}
