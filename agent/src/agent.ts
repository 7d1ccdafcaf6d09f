import {
  type Cadence,
  CONTROL_MAX_BATCH_BYTES,
  DEFAULT_CADENCE,
  type HostFacts,
  type HostKey,
  importPrivateKey,
  MAX_INGEST_BODY_BYTES,
  type Sample,
} from '@pulsewire/protocol';
import { batchJsonBytes, buildBatch, encodeBatch, renumberBatch, splitContent } from './batch.ts';
import { type Clock, monotonicMs, systemClock } from './clock.ts';
import type { SampleCollector } from './collectors/index.ts';
import type { IntakeBuffer } from './intake/aggregator.ts';
import { errorMessage, type Logger } from './log.ts';
import { SampleJournal } from './spool/journal.ts';
import { BatchQueue, type QueueLimits } from './spool/queue.ts';
import { SeqCounter } from './spool/seq.ts';
import { Spool } from './spool/spool.ts';
import { type AgentStatus, writeStatus } from './state-file.ts';
import { Backoff } from './transport/backoff.ts';
import { IngestClient, type OutgoingBatch, refusalFromNack, type SendOutcome } from './transport/client.ts';
import { type BatchAnswer, ControlChannel, type ControlChannelOptions } from './transport/control.ts';

/**
 * The connection state machine (in the spirit of Beszel's agent):
 *
 *   idle ──collect due──▶ collecting ──▶ idle
 *   idle ──push due────▶ pushing ──delivered──▶ idle
 *                          │ └─5xx/429/network──▶ backoff ──delay over──▶ pushing
 *                          └─403 host_revoked──▶ stopping ──▶ stopped
 *   any ──SIGTERM──▶ stopping (last push, rest to spool) ──▶ stopped
 *
 * Collection never waits for the network: while in backoff, samples keep being collected and cut into
 * batches, which wait in the queue (spilling to the spool) and go out newest first once the server answers.
 *
 * Beside it, with `control`, the control socket (transport/control.ts, its own state machine) tells the agent
 * to go live or relax the moment a dashboard starts or stops watching: the loop is woken and the new cadence
 * applies at once. While that socket is open its cadence wins over push answers (a push answered just before
 * a watcher arrived must not undo the "live" that followed it); while it is down, push answers set the cadence.
 *
 * While that socket is open, stored batches go over it instead of HTTP (same signature, over the JSON bytes), and
 * the loop does not wait for their answers: each batch stays queued, skipped by later rounds, until its `ack`
 * (delivered) or `nack` (handled as the HTTP answer with that status and body would be) comes back, and the
 * answers are handled by the loop, which alone changes the queue. A batch the socket did not answer (closed,
 * timed out) or cannot carry (over CONTROL_MAX_BATCH_BYTES) goes over HTTP as before.
 */
export type AgentState = 'idle' | 'collecting' | 'pushing' | 'backoff' | 'stopping' | 'stopped';

export type ExitReason = { kind: 'stopped' } | { kind: 'revoked'; code: string; message: string };

export interface AgentOptions {
  hostId: string;
  ingestUrl: string;
  /** PKCS#8 base64url, from the config file. */
  privateKey: string;
  stateDir: string;
  queue: QueueLimits;
  collector: SampleCollector;
  intake?: IntakeBuffer;
  facts?: () => Promise<HostFacts>;
  log: Logger;
  clock?: Clock;
  backoff?: Backoff;
  /** Batches sent per delivery round before collection gets its turn again (backfill is paced). */
  sendsPerRound?: number;
  /** How long SIGTERM may spend pushing before the rest goes to the spool. */
  shutdownBudgetMs?: number;
  /** Keep a control socket to the server (`run` does); options for tests. Off: push answers alone set the cadence. */
  control?:
    | boolean
    | Pick<ControlChannelOptions, 'backoff' | 'keepaliveMs' | 'stableMs' | 'onState' | 'batchAnswerTimeoutMs'>;
}

/** Cap on samples waiting for the next cut, so that a stuck push cannot grow memory (about an hour at 1 s). */
const MAX_PENDING_SAMPLES = 3600;

/**
 * A batch the server fails on with a 500 while newer batches of the same round are stored is a batch the server
 * cannot store (a value it should have refused with a 4xx): it is set aside for the round, so older batches are
 * not held back behind it, and dropped after this many such rounds rather than retried forever.
 */
const MAX_LONE_FAILURES = 5;

/** How long a stopping agent waits for the answers to batches on the control socket before closing it. */
const SOCKET_SHUTDOWN_WAIT_MS = 1000;

export class Agent {
  state: AgentState = 'idle';
  cadence: Cadence = DEFAULT_CADENCE;
  readonly #o: AgentOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #abort = new AbortController();
  #queue?: BatchQueue;
  #journal?: SampleJournal;
  #seq?: SeqCounter;
  #client?: IngestClient;
  #control?: ControlChannel;
  #pending: Sample[] = [];
  #factsToSend?: HostFacts;
  #backoffUntil = 0;
  #exit: ExitReason = { kind: 'stopped' };
  #stopping = false;
  #startedAt = 0;
  #lastPushAt?: number;
  #lastError?: AgentStatus['lastError'];
  #sendLatencyMs?: number;
  #wake?: () => void;
  /** Per seq: rounds in which only this batch failed (see MAX_LONE_FAILURES). In memory: a restart forgives. */
  readonly #loneFailures = new Map<number, number>();
  /** Batches sent on the control socket whose answer the loop has not handled yet, by seq. */
  readonly #inFlight = new Map<number, { batch: OutgoingBatch; sentAt: number; deliveries: number }>();
  /** Answers from the socket, handled by the loop in arrival order. */
  #answers: { seq: number; answer: BatchAnswer }[] = [];
  /** Batches the socket did not answer: they go over HTTP from now on (pruned as they leave the queue). */
  readonly #httpOnly = new Set<number>();
  /** Batches delivered since start, either way (to tell a batch the server fails on alone, as over HTTP). */
  #deliveries = 0;
  /** Batches stored since start, by the way they went (for `status`). */
  readonly #deliveredBy = { socket: 0, http: 0 };

  constructor(options: AgentOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log;
    this.#backoff = options.backoff ?? new Backoff();
  }

  /** Gauges for the agent's own section of each sample. */
  gauges = () => ({
    queueDepth: this.#queue?.depth ?? 0,
    spoolDepth: this.#queue?.spoolDepth ?? 0,
    ...(this.#sendLatencyMs !== undefined ? { sendLatencyMs: this.#sendLatencyMs } : {}),
  });

  async #open(): Promise<void> {
    const spool = await Spool.open(`${this.#o.stateDir}/spool`);
    this.#queue = new BatchQueue(spool, this.#o.queue, this.#log);
    this.#seq = await SeqCounter.open(this.#o.stateDir, spool.maxSeq());
    let key: HostKey;
    try {
      key = await importPrivateKey(this.#o.privateKey);
    } catch {
      throw new Error('the private key in the config file is not a PKCS#8 Ed25519 key: enroll this machine again');
    }
    this.#client = new IngestClient({
      ingestUrl: this.#o.ingestUrl,
      hostId: this.#o.hostId,
      privateKey: key,
      now: () => this.#clock.now(),
    });
    if (this.#o.control) {
      const options = typeof this.#o.control === 'object' ? this.#o.control : {};
      this.#control = new ControlChannel({
        ...options,
        // `status` shows the socket's state: written on each change, not only after the next push.
        onState: (state) => {
          options.onState?.(state);
          if (state === 'open' || state === 'backoff') void this.#writeStatus();
        },
        ingestUrl: this.#o.ingestUrl,
        hostId: this.#o.hostId,
        privateKey: key,
        log: this.#log,
        now: () => this.#clock.now(),
        onCadence: (cadence) => this.#applyCadence(cadence, 'control'),
      });
    }
    if (spool.depth > 0) this.#log.info(`spool holds ${spool.depth} batches from before; sending newest first`);
    const { journal, recovered } = await SampleJournal.open(`${this.#o.stateDir}/journal`);
    this.#journal = journal;
    if (recovered.length > 0) {
      this.#pending.push(...recovered.slice(-MAX_PENDING_SAMPLES));
      this.#log.info(`recovered ${recovered.length} samples collected before an unclean stop; sending them next`);
    }
    if (this.#o.facts) {
      this.#factsToSend = await this.#o.facts().catch((error) => {
        this.#log.warn(`host facts unavailable: ${errorMessage(error)}`);
        return undefined;
      });
    }
  }

  /** Runs until `stop()` or a revoked host; resolves with why it ended. Never rejects after startup. */
  async run(): Promise<ExitReason> {
    this.#startedAt = this.#clock.now();
    await this.#open();
    const queue = this.#queue as BatchQueue;
    this.#control?.start();
    let nextCollect = this.#clock.now();
    // The first push follows the first sample, so a freshly started agent shows up live at once.
    let nextPush = nextCollect;
    let lastCollect = Number.NEGATIVE_INFINITY;
    let lastCut = Number.NEGATIVE_INFINITY;
    let lastCadence = this.cadence;
    while (!this.#stopping) {
      if (this.#answers.length > 0) {
        this.state = 'pushing';
        await this.#takeAnswers();
        if (this.#stopping) break;
      }
      let now = this.#clock.now();
      if (now >= nextCollect) {
        this.state = 'collecting';
        await this.#collect(now);
        lastCollect = now;
        nextCollect = now + this.cadence.collectIntervalMs;
      }
      now = this.#clock.now();
      if (now >= nextPush) {
        await this.#cut(now);
        lastCut = now;
        nextPush = now + this.cadence.pushIntervalMs;
      }
      if (this.#sendable(queue) && this.#clock.now() >= this.#backoffUntil && !this.#stopping) {
        this.state = 'pushing';
        await this.#deliver(this.#o.sendsPerRound ?? 10);
      }
      if (this.cadence !== lastCadence) {
        // A new cadence (someone opened the live view) takes effect now, not after the old, longer interval: the
        // next collection and push are due one new interval after the last ones, at once when that has passed.
        nextCollect = Math.min(nextCollect, lastCollect + this.cadence.collectIntervalMs);
        nextPush = Math.min(nextPush, lastCut + this.cadence.pushIntervalMs);
        lastCadence = this.cadence;
        continue;
      }
      if (this.#stopping) break;
      // Answers that came while the loop was busy: handle them now (one arriving later wakes the sleep).
      if (this.#answers.length > 0) continue;
      now = this.#clock.now();
      this.state = now < this.#backoffUntil ? 'backoff' : 'idle';
      const sendDue = this.#sendable(queue) ? Math.max(this.#backoffUntil, now) : Number.POSITIVE_INFINITY;
      const wakeAt = Math.min(nextCollect, nextPush, sendDue);
      if (wakeAt > now) await this.#sleep(wakeAt - now);
    }
    await this.#shutdown();
    return this.#exit;
  }

  /**
   * Whether a delivery round has something to do: batches waiting that are not on the socket, unless the socket
   * is open but full (then its answers, or their timeouts, wake the loop).
   */
  #sendable(queue: BatchQueue): boolean {
    if (queue.depth <= this.#inFlight.size) return false;
    return !this.#control?.full;
  }

  /** State of the control socket (undefined without one). */
  get control(): ControlChannel['state'] | undefined {
    return this.#control?.state;
  }

  /** A cadence from the control socket (wakes the loop: it applies now) or from a push answer. */
  #applyCadence(hint: Cadence, source: 'control' | 'push'): void {
    if (this.#stopping || JSON.stringify(hint) === JSON.stringify(this.cadence)) return;
    this.#log.info(hint.live ? 'live view open: collecting every second' : 'cadence from server', {
      collectMs: hint.collectIntervalMs,
      pushMs: hint.pushIntervalMs,
      via: source,
    });
    this.cadence = hint;
    this.#wake?.();
  }

  /** Ends `run()`: what is pending is pushed if the server answers quickly, the rest goes to the spool. */
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.state = 'stopping';
    this.#abort.abort();
    this.#wake?.();
  }

  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#clock.sleep(ms, this.#abort.signal).then(resolve, resolve);
    });
    this.#wake = undefined;
  }

  async #collect(now: number): Promise<void> {
    const sample = await this.#o.collector.collect(now);
    this.#pending.push(sample);
    if (this.#pending.length > MAX_PENDING_SAMPLES) this.#pending.shift();
    await this.#journal?.append(sample).catch((error) => this.#journalFailed(error));
  }

  #journalWarned = false;
  #journalFailed(error: unknown): void {
    if (this.#journalWarned) return;
    this.#journalWarned = true;
    this.#log.error(`cannot write the sample journal (a kill -9 may lose recent samples): ${errorMessage(error)}`);
  }

  /** Forgets journaled samples once every batch cut from them is delivered or spooled. */
  async #releaseJournal(): Promise<void> {
    const journal = this.#journal;
    if (!journal?.holdsCut || (this.#queue?.memoryOnly ?? 0) > 0) return;
    await journal.release().catch((error) => this.#journalFailed(error));
  }

  /** Turns pending samples, application metrics/events and facts into queued batches. */
  async #cut(now: number): Promise<void> {
    const intake = this.#o.intake?.flush(now) ?? { metrics: [], events: [] };
    if (this.#pending.length > 0) await this.#journal?.seal().catch((error) => this.#journalFailed(error));
    const chunks = splitContent({
      samples: this.#pending,
      metrics: intake.metrics,
      events: intake.events,
      ...(this.#factsToSend ? { facts: this.#factsToSend } : {}),
    });
    this.#pending = [];
    this.#factsToSend = undefined;
    for (const chunk of chunks) {
      const seq = await (this.#seq as SeqCounter).next();
      const batch = buildBatch(this.#o.hostId, seq, now, chunk);
      const body = await encodeBatch(batch);
      if (body.byteLength > MAX_INGEST_BODY_BYTES) {
        this.#log.error('batch over the ingest size limit after compression; dropped', { seq, bytes: body.byteLength });
        continue;
      }
      (this.#queue as BatchQueue).add(seq, batch.batch_id, body);
      // While the server is failing, a batch cut now will wait a while: make it durable at once.
      if (this.#backoff.attempts > 0) await this.#persist(seq);
    }
    await this.#releaseJournal();
  }

  /**
   * Sends waiting batches newest first, up to `limit`; stops at the first failure, except a 500 on one batch
   * after others of the round were stored: that batch is set aside (see MAX_LONE_FAILURES) and the round goes on.
   */
  async #deliver(limit: number): Promise<void> {
    const queue = this.#queue as BatchQueue;
    // Skipped this round: batches on the socket, and those set aside.
    const skip = new Set<number>(this.#inFlight.keys());
    let delivered = 0;
    let overHttp = 0;
    for (let sent = 0; sent < limit; sent++) {
      // The socket is open but full: its answers wake the loop, and the rest waits for them, not for HTTP.
      if (this.#control?.full) break;
      const batch = await queue.peek(skip).catch((error) => {
        this.#log.error(`cannot read a spooled batch: ${errorMessage(error)}`);
        return undefined;
      });
      if (!batch) break;
      if (await this.#sendOnSocket(batch)) {
        skip.add(batch.seq);
        continue;
      }
      overHttp++;
      const outcome = await (this.#client as IngestClient).send(batch);
      if (outcome.kind === 'delivered') {
        delivered++;
        this.#deliveries++;
        this.#deliveredBy.http++;
      }
      if (outcome.kind === 'retry' && outcome.status === 500 && delivered > 0) {
        skip.add(batch.seq);
        await this.#failedAlone(batch, outcome);
        continue;
      }
      const keepGoing = await this.#handle(batch, outcome);
      if (!keepGoing) break;
    }
    await this.#releaseJournal();
    // A round that only handed batches to the socket writes the status when their answers come.
    if (overHttp > 0) await this.#writeStatus();
  }

  /**
   * Hands a batch to the control socket when it is open and can take it; the answer is handled later by the loop
   * (#takeAnswers). False: send it over HTTP now.
   */
  async #sendOnSocket(batch: OutgoingBatch & { spilled: boolean }): Promise<boolean> {
    const control = this.#control;
    if (!control?.acceptsBatches || this.#httpOnly.has(batch.seq) || this.#stopping) return false;
    // A backlog read back from the spool (beyond the newest `memoryBatches`, or a previous run's) goes over HTTP
    // gzip'd as it lies: inflating hundreds of batches for the socket left ~3 MiB of freed native memory that
    // glibc keeps (decisions.md, "Stored batches on the socket: the agent's side"), against a 60 MB bar.
    if (batch.spilled) return false;
    const json = await batchJsonBytes(batch.body, CONTROL_MAX_BATCH_BYTES).catch(() => undefined);
    // Over the socket's size (it goes gzip'd over HTTP), or the socket filled meanwhile.
    if (!json || !control.acceptsBatches) return false;
    this.#inFlight.set(batch.seq, { batch, sentAt: monotonicMs(), deliveries: this.#deliveries });
    void control.sendBatch({ seq: batch.seq, batchId: batch.batchId, json }).then((answer) => {
      this.#answers.push({ seq: batch.seq, answer });
      this.#wake?.();
    });
    return true;
  }

  /** Handles the socket's answers, in the order they came, as HTTP answers are handled. */
  async #takeAnswers(): Promise<void> {
    const queue = this.#queue as BatchQueue;
    for (const { seq, answer } of this.#answers.splice(0)) {
      const flight = this.#inFlight.get(seq);
      if (!flight) continue;
      const { batch } = flight;
      if (answer.kind === 'fallback') {
        this.#inFlight.delete(seq);
        for (const old of this.#httpOnly) if (!queue.has(old)) this.#httpOnly.delete(old);
        this.#httpOnly.add(seq);
        // It waits a little longer now: make it durable, as a failed push is.
        await this.#persist(seq);
        this.#log.debug(`batch goes over HTTP: ${answer.why}`, { seq, batchId: batch.batchId });
        continue;
      }
      const outcome: SendOutcome =
        answer.kind === 'ack'
          ? { kind: 'delivered', response: undefined, latencyMs: monotonicMs() - flight.sentAt }
          : refusalFromNack(answer.nack);
      if (outcome.kind === 'delivered') {
        this.#deliveries++;
        this.#deliveredBy.socket++;
      }
      // As over HTTP: a 500 on this batch while others sent after it were stored is this batch's own problem.
      if (outcome.kind === 'retry' && outcome.status === 500 && this.#deliveries > flight.deliveries) {
        await this.#failedAlone(batch, outcome);
      } else {
        await this.#handle(batch, outcome);
      }
      // Out of flight only once handled: until then no round may pick it up again.
      this.#inFlight.delete(seq);
    }
    await this.#releaseJournal();
    await this.#writeStatus();
  }

  /** The server failed on this batch alone: keep it for a later round, or drop it after MAX_LONE_FAILURES. */
  async #failedAlone(batch: OutgoingBatch, outcome: SendOutcome & { kind: 'retry' }): Promise<void> {
    const queue = this.#queue as BatchQueue;
    const failures = (this.#loneFailures.get(batch.seq) ?? 0) + 1;
    this.#recordError(this.#clock.now(), outcome.code, outcome.message, outcome.status);
    const fields = { seq: batch.seq, batchId: batch.batchId, code: outcome.code, failures };
    if (failures < MAX_LONE_FAILURES) {
      this.#loneFailures.set(batch.seq, failures);
      await this.#persist(batch.seq);
      this.#log.warn(
        'the server failed on this batch while storing newer ones; set aside, older batches go on',
        fields,
      );
      return;
    }
    this.#loneFailures.delete(batch.seq);
    await queue.remove(batch.seq);
    this.#log.error(
      `batch dropped: the server failed on it (${outcome.status} ${outcome.code}) in ${failures} rounds ` +
        'in which it stored the others, so it holds something the server cannot store',
      fields,
    );
  }

  /**
   * The server stored this seq from another batch: our counter went back (a restored snapshot, a wiped state
   * folder). The counter jumps past the server's last seq and the batch goes again, newest, under a new number.
   */
  async #renumber(batch: OutgoingBatch, outcome: SendOutcome & { kind: 'replayed' }): Promise<boolean> {
    const queue = this.#queue as BatchQueue;
    const seq = this.#seq as SeqCounter;
    this.#log.once(
      'seq-replayed',
      'warn',
      `the server already stored seq ${batch.seq} from another batch (state folder restored or wiped?): ` +
        `numbering continues after its last seq, ${outcome.lastSeq}; such batches are sent again under new numbers`,
    );
    try {
      await seq.skipPast(outcome.lastSeq);
      const next = await seq.next();
      await queue.renumber(batch.seq, next, await renumberBatch(batch.body, next));
      this.#loneFailures.delete(batch.seq);
      this.#log.info(`batch renumbered after a replayed seq`, { from: batch.seq, to: next, batchId: batch.batchId });
      return true;
    } catch (error) {
      this.#log.error(`cannot renumber batch ${batch.seq}; it is kept and tried again: ${errorMessage(error)}`);
      return false;
    }
  }

  async #handle(batch: OutgoingBatch, outcome: SendOutcome): Promise<boolean> {
    const queue = this.#queue as BatchQueue;
    const now = this.#clock.now();
    switch (outcome.kind) {
      case 'delivered': {
        await queue.remove(batch.seq);
        this.#loneFailures.delete(batch.seq);
        if (this.#backoff.attempts > 0) this.#log.info('ingest reachable again', { queued: queue.depth });
        this.#backoff.reset();
        this.#backoffUntil = 0;
        this.#lastPushAt = now;
        this.#sendLatencyMs = outcome.latencyMs;
        const hint = outcome.response?.cadence;
        // The push answer is the fallback: while the control socket is open, its messages are the newer word.
        if (hint && !this.#control?.open) this.#applyCadence(hint, 'push');
        return true;
      }
      case 'retry': {
        await this.#persist(batch.seq);
        const delayMs = this.#backoff.next(outcome.retryAfterMs);
        this.#backoffUntil = now + delayMs;
        this.#recordError(now, outcome.code, outcome.message, outcome.status);
        this.#log.warn(`push failed, retrying in ${Math.round(delayMs)} ms`, {
          status: outcome.status,
          code: outcome.code,
          attempt: this.#backoff.attempts,
          queued: queue.depth,
        });
        return false;
      }
      case 'unauthorized': {
        await this.#persist(batch.seq);
        const delayMs = this.#backoff.longest();
        this.#backoffUntil = now + delayMs;
        this.#recordError(now, outcome.code, outcome.message, outcome.status);
        if (outcome.status === 403) {
          // Not the server's revocation (that stops the agent): a proxy, WAF or firewall in the way, most likely.
          this.#log.error(
            `ingest answered 403 ${outcome.code} without revoking this host: ${outcome.message}. ` +
              'Something between this machine and Pulsewire (a proxy, a WAF, a firewall) may be refusing ' +
              `${this.#o.ingestUrl}. The agent keeps running and its batches; it retries at the longest backoff.`,
            { retryInMs: delayMs },
          );
          return false;
        }
        this.#log.error(
          `the server refused this host's signature (${outcome.code}): ${outcome.message}. ` +
            'Check the system clock; if the host was deleted, enroll again. Batches are kept.',
          { retryInMs: delayMs },
        );
        return false;
      }
      case 'replayed':
        return this.#renumber(batch, outcome);
      case 'rejected': {
        // Retrying the same bytes can only fail the same way: drop this batch, keep the others going.
        await queue.remove(batch.seq);
        this.#loneFailures.delete(batch.seq);
        this.#recordError(now, outcome.code, outcome.message, outcome.status);
        this.#log.error(`batch refused by the server (${outcome.status} ${outcome.code}): ${outcome.message}`, {
          seq: batch.seq,
          batchId: batch.batchId,
          path: outcome.path,
        });
        return true;
      }
      case 'revoked': {
        await this.#persist(batch.seq);
        this.#recordError(now, outcome.code, outcome.message, outcome.status);
        this.#exit = { kind: 'revoked', code: outcome.code, message: outcome.message };
        this.#log.error(
          `this host was revoked in Pulsewire (${outcome.code}): ${outcome.message}. ` +
            'The agent stops; enroll the machine again to resume.',
        );
        this.stop();
        return false;
      }
    }
  }

  /**
   * On the way out, batches on the socket get a moment for their answers (they are stored by now, most likely)
   * before it closes; what is still unanswered then goes over HTTP, answered `duplicate` if it was stored.
   */
  async #settleSocket(ms: number): Promise<void> {
    const deadline = monotonicMs() + ms;
    while (this.#inFlight.size > 0) {
      await this.#takeAnswers();
      const left = deadline - monotonicMs();
      if (this.#inFlight.size === 0 || left <= 0 || !this.#control?.open) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async #persist(seq: number): Promise<void> {
    await (this.#queue as BatchQueue).persist(seq).catch((error) => {
      this.#log.error(`cannot write to the spool: ${errorMessage(error)}`);
    });
  }

  #recordError(at: number, code: string, message: string, status?: number) {
    this.#lastError = { at, code, message: message.slice(0, 500), ...(status !== undefined ? { status } : {}) };
  }

  async #shutdown(): Promise<void> {
    if (this.#exit.kind === 'stopped') await this.#settleSocket(SOCKET_SHUTDOWN_WAIT_MS);
    this.#control?.close();
    const queue = this.#queue;
    if (queue) {
      if (this.#exit.kind === 'stopped') {
        await this.#cut(this.#clock.now()).catch((error) => this.#log.error(`final batch: ${errorMessage(error)}`));
        // The socket is closed: what was on it comes back as `fallback` (or was answered) once the promises
        // settle, and goes over HTTP.
        await new Promise((resolve) => setImmediate(resolve));
        await this.#takeAnswers();
        if (queue.depth > 0 && this.#clock.now() >= this.#backoffUntil) {
          this.state = 'pushing';
          const budget = this.#o.shutdownBudgetMs ?? 5000;
          await Promise.race([this.#deliver(50), systemClock.sleep(budget)]);
        }
      }
      this.state = 'stopping';
      await queue.persistAll().catch((error) => this.#log.error(`cannot write to the spool: ${errorMessage(error)}`));
      if (queue.depth > 0) this.#log.info(`${queue.depth} batches kept in the spool for the next start`);
      await this.#releaseJournal();
    }
    await this.#journal?.close().catch(() => undefined);
    await this.#client?.close().catch(() => undefined);
    await this.#o.collector.close();
    this.state = 'stopped';
    await this.#writeStatus();
  }

  async #writeStatus(): Promise<void> {
    const queue = this.#queue;
    await writeStatus(this.#o.stateDir, {
      pid: process.pid,
      state: this.state,
      hostId: this.#o.hostId,
      startedAt: this.#startedAt,
      updatedAt: this.#clock.now(),
      ...(this.#lastPushAt !== undefined ? { lastPushAt: this.#lastPushAt } : {}),
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
      queueDepth: queue?.depth ?? 0,
      spoolDepth: queue?.spoolDepth ?? 0,
      droppedBatches: queue?.dropped ?? 0,
      cadence: this.cadence,
      ...(this.#control ? { control: this.#control.state } : {}),
      delivered: { ...this.#deliveredBy },
      collectorsFailing: Object.fromEntries(this.#o.collector.failures()),
    }).catch((error) => this.#log.debug(`status file: ${errorMessage(error)}`));
  }
}
