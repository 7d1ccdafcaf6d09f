import { deliveryFailedNotification } from './messages.ts';
import { ownerChannels } from './routing.ts';
import type { DeliveryRecord, Notification, NotifyChannel, NotifyStorage, Sender, SendResult } from './types.ts';

/**
 * The durable outbox (design.md "Alerts", Delivery). Messages wait in the object's storage until a
 * channel takes them; each attempt has a timeout, failures retry on the Standard Webhooks schedule,
 * and a message is given up after the last retry with the owners told once per channel.
 *
 * Exactly-once towards receivers rests on two things: the entry is deleted as soon as a send
 * succeeds, before anything else runs, and before each send the entry is leased (its next attempt
 * pushed past the timeout), so a second drain — or the same object woken after an eviction in the
 * middle of a send — cannot start another copy while one may be in flight. An object evicted after
 * a receiver accepted but before the delete re-sends the same message id (`webhook-id`, Resend's
 * idempotency key) after the lease, which receivers dedupe.
 */

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
/** Standard Webhooks: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. */
export const RETRY_SCHEDULE_MS = [0, 5 * S, 5 * MIN, 30 * MIN, 2 * H, 5 * H, 10 * H, 14 * H, 20 * H, 24 * H];
export const DEFAULT_TIMEOUT_MS = 15_000;
/** A `Retry-After` further out than this is treated as this (a receiver cannot park a message for days). */
const MAX_RETRY_AFTER_MS = 24 * H;

const ENTRY = 'outbox:msg:';
const FAILING = 'outbox:failing:';

export interface OutboxOptions {
  send: Sender;
  /** Multiplies the retry schedule; tests shorten it (e.g. 0.0001), production leaves it at 1. */
  retryScale?: number;
  timeoutMs?: number;
  /** For jitter; tests may fix it. */
  random?: () => number;
  /** For latency; the wall clock by default. */
  clock?: () => number;
}

interface OutboxEntry {
  message: Notification;
  attempts: number;
  nextAttemptAt: number;
  enqueuedAt: number;
}

/** A channel that stopped working: disabled by a permanent error, or a message given up after every retry. */
export interface ChannelFailure {
  channel: NotifyChannel;
  reason: string;
  disabled: boolean;
}

export interface AttemptOutcome {
  record: DeliveryRecord;
  /** Set on a permanent error: the object disables the channel and shows the reason. */
  disable: { channelId: string; reason: string } | null;
  /** Set the first time a channel fails (until it succeeds again): tell the owners. */
  failure: ChannelFailure | null;
}

export interface DrainContext {
  now: number;
  channels: readonly NotifyChannel[];
  organizationId: string;
  origin: string;
}

export interface DrainResult {
  /** For `notification_deliveries`, one per attempt (plus `queued` for owner notices enqueued). */
  records: DeliveryRecord[];
  disable: { channelId: string; reason: string }[];
  /** Failures no owner e-mail channel could be told about: for the object to show otherwise. */
  unreported: ChannelFailure[];
  nextDueAt: number | null;
}

export class Outbox {
  private readonly send: Sender;
  private readonly retryScale: number;
  private readonly timeoutMs: number;
  private readonly random: () => number;
  private readonly clock: () => number;
  /** Messages this instance is sending now: a concurrent drain skips them. */
  private readonly inFlight = new Set<string>();
  private readonly storage: NotifyStorage;

  constructor(storage: NotifyStorage, options: OutboxOptions) {
    this.storage = storage;
    this.send = options.send;
    this.retryScale = options.retryScale ?? 1;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? Date.now;
  }

  async enqueue(message: Notification, now: number): Promise<DeliveryRecord> {
    await this.storage.put<OutboxEntry>(ENTRY + message.id, {
      message,
      attempts: 0,
      nextAttemptAt: now,
      enqueuedAt: now,
    });
    return record(message, 'queued', now, { attempts: 0 });
  }

  /** Entries whose next attempt is due, oldest first. */
  async due(now: number): Promise<OutboxEntry[]> {
    const entries = await this.storage.list<OutboxEntry>({ prefix: ENTRY });
    return [...entries.values()]
      .filter((e) => e.nextAttemptAt <= now)
      .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.enqueuedAt - b.enqueuedAt);
  }

  async nextDueAt(): Promise<number | null> {
    let next: number | null = null;
    for (const entry of (await this.storage.list<OutboxEntry>({ prefix: ENTRY })).values()) {
      if (next === null || entry.nextAttemptAt < next) next = entry.nextAttemptAt;
    }
    return next;
  }

  /** One attempt; null when the message is already being sent here or is gone (delivered meanwhile). */
  async attempt(messageId: string, channel: NotifyChannel | undefined, now: number): Promise<AttemptOutcome | null> {
    if (this.inFlight.has(messageId)) return null;
    this.inFlight.add(messageId);
    try {
      return await this.attemptOnce(messageId, channel, now);
    } finally {
      this.inFlight.delete(messageId);
    }
  }

  private async attemptOnce(
    messageId: string,
    channel: NotifyChannel | undefined,
    now: number,
  ): Promise<AttemptOutcome | null> {
    const key = ENTRY + messageId;
    const entry = await this.storage.get<OutboxEntry>(key);
    if (!entry) return null;
    const { message } = entry;
    if (!channel?.enabled) {
      await this.storage.delete(key);
      const reason = channel ? 'the channel is disabled' : 'the channel was deleted';
      return {
        record: record(message, 'failed', now, { attempts: entry.attempts, lastError: reason }),
        disable: null,
        failure: null,
      };
    }
    const attempts = entry.attempts + 1;
    const backoff = this.backoff(attempts);
    // The lease: written before the send, so nobody starts another copy until this one has timed out.
    await this.storage.put<OutboxEntry>(key, { ...entry, attempts, nextAttemptAt: now + this.timeoutMs + backoff });
    const started = this.clock();
    let result: SendResult;
    try {
      result = await this.send(channel, message, { signal: AbortSignal.timeout(this.timeoutMs), now });
    } catch (error) {
      result = { outcome: 'retry', status: null, error: describeError(error) };
    }
    const latencyMs = Math.max(0, this.clock() - started);
    const fields = { attempts, latencyMs, lastStatus: result.status };

    if (result.outcome === 'delivered') {
      // First thing after a success: nothing may send this message again.
      await this.storage.delete(key);
      if (await this.storage.get(FAILING + channel.id)) await this.storage.delete(FAILING + channel.id);
      return { record: record(message, 'sent', now, fields), disable: null, failure: null };
    }
    if (result.outcome === 'permanent') {
      await this.storage.delete(key);
      return {
        record: record(message, 'failed', now, { ...fields, lastError: result.error }),
        disable: { channelId: channel.id, reason: result.error },
        failure: await this.markFailing(channel, message, result.error, true, now),
      };
    }
    if (attempts >= RETRY_SCHEDULE_MS.length) {
      await this.storage.delete(key);
      return {
        record: record(message, 'failed', now, { ...fields, lastError: result.error }),
        disable: null,
        failure: await this.markFailing(channel, message, `${attempts} attempts, last: ${result.error}`, false, now),
      };
    }
    const retryAfter = Math.min(result.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS);
    await this.storage.put<OutboxEntry>(key, {
      ...entry,
      attempts,
      nextAttemptAt: now + Math.max(backoff, retryAfter),
    });
    return {
      record: record(message, 'retrying', now, { ...fields, lastError: result.error }),
      disable: null,
      failure: null,
    };
  }

  /** The wait after attempt `attempts` fails, with ±10 % jitter so retries of a burst spread out. */
  private backoff(attempts: number): number {
    const base = RETRY_SCHEDULE_MS[Math.min(attempts, RETRY_SCHEDULE_MS.length - 1)] ?? 0;
    return Math.round(base * this.retryScale * (0.9 + 0.2 * this.random()));
  }

  /** Once per channel until it works again; never about a failed failure notice (no loops). */
  private async markFailing(
    channel: NotifyChannel,
    message: Notification,
    reason: string,
    disabled: boolean,
    now: number,
  ): Promise<ChannelFailure | null> {
    if (message.kind === 'delivery_failed') return null;
    if (await this.storage.get(FAILING + channel.id)) return null;
    await this.storage.put(FAILING + channel.id, { since: now, reason });
    return { channel, reason, disabled };
  }

  /**
   * Attempts everything due: channels in parallel, each channel's messages in order. A channel that
   * throttles (429) or failed permanently is left alone for the rest of this drain.
   */
  async drain(ctx: DrainContext): Promise<DrainResult> {
    const byChannel = new Map<string, OutboxEntry[]>();
    for (const entry of await this.due(ctx.now)) {
      const list = byChannel.get(entry.message.channelId) ?? [];
      list.push(entry);
      byChannel.set(entry.message.channelId, list);
    }
    const outcomes: AttemptOutcome[] = [];
    await Promise.all(
      [...byChannel].map(async ([channelId, entries]) => {
        const channel = ctx.channels.find((c) => c.id === channelId);
        for (const entry of entries) {
          const outcome = await this.attempt(entry.message.id, channel, ctx.now);
          if (!outcome) continue;
          outcomes.push(outcome);
          if (outcome.disable || outcome.record.lastStatus === 429) break;
        }
      }),
    );
    const result: DrainResult = { records: [], disable: [], unreported: [], nextDueAt: null };
    for (const outcome of outcomes) {
      result.records.push(outcome.record);
      if (outcome.disable) result.disable.push(outcome.disable);
      if (!outcome.failure) continue;
      const owners = ownerChannels(ctx.channels, outcome.failure.channel.id);
      if (owners.length === 0) result.unreported.push(outcome.failure);
      for (const owner of owners) {
        result.records.push(await this.enqueue(deliveryFailedNotification(outcome.failure, owner, ctx), ctx.now));
      }
    }
    result.nextDueAt = await this.nextDueAt();
    return result;
  }
}

function record(
  message: Notification,
  status: DeliveryRecord['status'],
  at: number,
  fields: Partial<Pick<DeliveryRecord, 'attempts' | 'latencyMs' | 'lastStatus' | 'lastError'>>,
): DeliveryRecord {
  return {
    channelId: message.channelId,
    messageId: message.id,
    kind: message.kind,
    status,
    attempts: fields.attempts ?? 0,
    latencyMs: fields.latencyMs ?? null,
    lastStatus: fields.lastStatus ?? null,
    lastError: fields.lastError ?? null,
    alertIds: message.alerts.map((a) => a.id),
    reason: null,
    at,
  };
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timed out';
    return error.message || error.name;
  }
  return String(error);
}
