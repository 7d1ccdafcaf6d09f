import {
  CONTROL_CLOSE,
  CONTROL_MAX_BATCHES_IN_FLIGHT,
  type ControlServerMessage,
  type IngestBatch,
} from '@pulsewire/protocol';
import { type DatabaseHandle, openDatabase } from '../../db/client.ts';
import type { Config } from '../../env.ts';
import { HttpError } from '../../http/errors.ts';
import { loggableError } from '../../http/loggable-error.ts';
import { log } from '../../http/logger.ts';
import {
  type StoredHost,
  type StoreItem,
  type StoreOutcome,
  type StoreResult,
  storeBatches,
} from '../../ingest/store.ts';
import type { AgentAttachment } from '../agent-control.ts';
import { HostKeys, readControlBatch } from './control-batch.ts';
import { GroupCommit } from './group-commit.ts';

/** Batches in one statement at most: a few MB of parameters, a second or so of the database's time. */
export const MAX_BATCHES_PER_COMMIT = 1_000;
/**
 * Statements under way at once, each on its own connection of the object's pool: the database works on one while
 * the object builds the next and answers the last (storeBatches locks a commit's hosts in id order, so two
 * commits sharing hosts wait for each other instead of deadlocking).
 */
export const COMMITS_AT_ONCE = 2;

/** A batch the socket's host stored, for the object to show, count and evaluate as after an HTTP push. */
export interface StoredBatch {
  hostId: string;
  tenantId: string;
  origin: string;
  host: StoredHost;
  batch: IngestBatch;
  result: Extract<StoreResult, { duplicate: false }>;
  /** Its samples were shown live before the commit (`showLive`): not to be sent again. */
  liveShown: boolean;
}

export interface AgentIngestDeps {
  config(): Config;
  /** Whether a dashboard watches the host live now: its samples are then shown before the commit. */
  watchedLive(hostId: string): boolean;
  /** Shows a watched host's samples before the commit (the object's `showLive`). */
  showLive(hostId: string, batch: IngestBatch): Promise<boolean>;
  /** After the commit and the ack: presence, live frames, alert evaluation, events (the object's `recordBatch`). */
  record(stored: StoredBatch): Promise<void>;
  /** Stores a commit's batches (tests may count statements). */
  store?: typeof storeBatches;
  openDatabase?: (config: Config) => DatabaseHandle;
}

interface Committed {
  outcome: StoreOutcome;
  host: StoredHost | undefined;
}

function sendQuietly(ws: WebSocket, message: ControlServerMessage): void {
  try {
    ws.send(JSON.stringify(message));
  } catch {
    // The agent is gone: it sends the batch again (over HTTP, or on its next socket) and it is a duplicate.
  }
}

function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closed
  }
}

function nack(batchId: string, error: HttpError): ControlServerMessage {
  return {
    type: 'nack',
    batch_id: batchId,
    status: error.status,
    error: {
      ...error.extra.details,
      code: error.code,
      message: error.message,
      ...(error.extra.path ? { path: error.extra.path } : {}),
    },
  };
}

/**
 * Stored batches over the agents' control sockets (decisions.md, "Batches over the control socket"). Each
 * batch is checked as an HTTP push is, then queued; the tenant's queued batches are stored together in one
 * statement (group-commit.ts) over a connection this object holds only while batches are queued, and each is
 * answered after the commit: `ack`, or `nack` with the push's status and error. The agent keeps a batch until
 * then, so an object evicted or a connection lost mid-commit loses nothing: the batch is sent again and stored
 * once. Per socket, at most CONTROL_MAX_BATCHES_IN_FLIGHT batches may wait for their answer.
 */
export class AgentIngest {
  readonly #deps: AgentIngestDeps;
  readonly #keys = new HostKeys();
  readonly #inFlight = new WeakMap<WebSocket, number>();
  readonly #commits: GroupCommit<StoreItem, Committed>;
  #database: DatabaseHandle | undefined;

  constructor(deps: AgentIngestDeps) {
    this.#deps = deps;
    this.#commits = new GroupCommit({
      commit: (items) => this.#commit(items),
      maxItems: MAX_BATCHES_PER_COMMIT,
      concurrency: COMMITS_AT_ONCE,
      // Released when nothing is queued: an open connection would keep the object from hibernating.
      onIdle: () => this.#release(),
    });
  }

  /** Batches waiting for a commit (tests and the object's status read it). */
  get queued(): number {
    return this.#commits.queued;
  }

  async message(ws: WebSocket, agent: AgentAttachment, raw: string | ArrayBuffer): Promise<void> {
    if (!agent.publicKey || agent.origin === undefined) {
      closeQuietly(ws, CONTROL_CLOSE.reconnect, 'connect again to send batches on this socket');
      return;
    }
    const inFlight = this.#inFlight.get(ws) ?? 0;
    if (inFlight >= CONTROL_MAX_BATCHES_IN_FLIGHT) {
      closeQuietly(ws, CONTROL_CLOSE.tooManyInFlight, `more than ${CONTROL_MAX_BATCHES_IN_FLIGHT} batches unanswered`);
      return;
    }
    this.#inFlight.set(ws, inFlight + 1);
    // The batch stops counting against the window when it is answered, not when the object is done with it: an
    // agent may send its next batch on each ack.
    const answered = () => this.#inFlight.set(ws, (this.#inFlight.get(ws) ?? 1) - 1);
    await this.#handle(ws, { ...agent, publicKey: agent.publicKey, origin: agent.origin }, raw, answered);
  }

  async #handle(
    ws: WebSocket,
    agent: AgentAttachment & { publicKey: string; origin: string },
    raw: string | ArrayBuffer,
    answered: () => void,
  ): Promise<void> {
    let pending = true;
    const answer = (message: ControlServerMessage | null) => {
      if (!pending) return;
      pending = false;
      answered();
      if (message) sendQuietly(ws, message);
    };
    try {
      await this.#answer(ws, agent, raw, answer);
    } finally {
      answer(null);
    }
  }

  async #answer(
    ws: WebSocket,
    agent: AgentAttachment & { publicKey: string; origin: string },
    raw: string | ArrayBuffer,
    answer: (message: ControlServerMessage) => void,
  ): Promise<void> {
    const reading = await readControlBatch(raw, agent, this.#keys);
    if (reading.kind === 'unexpected') {
      closeQuietly(ws, CONTROL_CLOSE.unexpected, 'agents send only {"type":"ping"} and batches on the control socket');
      return;
    }
    if (reading.kind === 'refused') {
      answer(nack(reading.batchId, reading.error));
      return;
    }
    const { batch, dropped } = reading;
    const { hostId, tenantId } = agent;
    if (dropped > 0) log('warn', 'ingest: items stamped in the future were not stored', { hostId, dropped });
    // As over HTTP (decisions.md, "Live before the commit"): a watched host's frames go out while it is stored.
    const liveShown = this.#deps.watchedLive(hostId)
      ? await this.#deps.showLive(hostId, batch).catch(() => false)
      : false;
    let committed: Committed;
    try {
      committed = await this.#commits.submit({
        host: { id: hostId, tenantId, lastSeq: 0 },
        publicKey: agent.publicKey,
        batch,
      });
    } catch (error) {
      log('warn', 'ingest over the control socket: the commit failed; the agent sends the batch again', {
        hostId,
        error: loggableError(error),
      });
      answer(
        nack(
          batch.batch_id,
          new HttpError(503, 'service_unavailable', 'The database could not be reached; send the batch again'),
        ),
      );
      return;
    }
    const { outcome, host } = committed;
    if ('refused' in outcome) {
      answer(nack(batch.batch_id, outcome.refused));
      return;
    }
    answer({
      type: 'ack',
      batch_id: batch.batch_id,
      accepted: outcome.accepted,
      duplicate: outcome.duplicate,
    });
    if (outcome.duplicate || !host) return;
    try {
      await this.#deps.record({ hostId, tenantId, origin: agent.origin, host, batch, result: outcome, liveShown });
    } catch (error) {
      // Stored and acknowledged: the live view, presence or evaluation of this batch is what is lost.
      log('warn', 'a batch stored over the control socket was not recorded by the object', {
        hostId,
        error: loggableError(error),
      });
    }
  }

  async #commit(items: StoreItem[]): Promise<Committed[]> {
    const tenantId = items[0]?.host.tenantId as string;
    this.#database ??= (this.#deps.openDatabase ?? openDatabase)(this.#deps.config());
    const database = this.#database;
    try {
      const { outcomes, hosts } = await (this.#deps.store ?? storeBatches)(database.db, tenantId, items);
      return outcomes.map((outcome, i) => ({ outcome, host: hosts.get((items[i] as StoreItem).host.id) }));
    } catch (error) {
      // A connection that failed a statement is not trusted with the next: the next commit opens another.
      this.#release();
      throw error;
    }
  }

  #release(): void {
    const database = this.#database;
    this.#database = undefined;
    void database?.close().catch(() => {});
  }
}
