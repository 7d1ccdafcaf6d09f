import type { AlertTransition } from '../alerts/types.ts';
import { testNotification } from './messages.ts';
import { type ChannelFailure, Outbox, type OutboxOptions } from './outbox.ts';
import { Planner } from './planner.ts';
import type { DeliveryRecord, NotifyChannel, NotifyContext, NotifyStorage } from './types.ts';

/**
 * What the tenant object calls: the planner and the outbox over one storage. `run` after a batch
 * with the engine's transitions, and from the alarm with none; then write `records` to
 * `notification_deliveries`, disable the channels in `disable`, and set the alarm to `nextDueAt`.
 */

export interface NotifierResult {
  records: DeliveryRecord[];
  disable: { channelId: string; reason: string }[];
  unreported: ChannelFailure[];
  nextDueAt: number | null;
}

export class Notifier {
  readonly planner: Planner;
  readonly outbox: Outbox;

  constructor(storage: NotifyStorage, options: OutboxOptions) {
    this.planner = new Planner(storage);
    this.outbox = new Outbox(storage, options);
  }

  async run(ctx: NotifyContext, transitions: readonly AlertTransition[] = []): Promise<NotifierResult> {
    const plan = await this.planner.run(ctx, transitions);
    const result: NotifierResult = { records: [...plan.log], disable: [], unreported: [], nextDueAt: null };
    for (const message of plan.messages) result.records.push(await this.outbox.enqueue(message, ctx.now));
    let outboxDue = await this.send(ctx, result);
    // Owner notices about a failed channel were just queued: send them now rather than on the next alarm.
    if (outboxDue !== null && outboxDue <= ctx.now) outboxDue = await this.send(ctx, result);
    result.nextDueAt = earliest(plan.nextDueAt, outboxDue);
    return result;
  }

  /** "Send test": through the same outbox, at once. */
  async sendTest(ctx: NotifyContext, channel: NotifyChannel): Promise<NotifierResult> {
    await this.outbox.enqueue(testNotification(ctx, channel), ctx.now);
    return this.run(ctx);
  }

  acknowledge(alertIds: readonly string[]): Promise<void> {
    return this.planner.acknowledge(alertIds);
  }

  private async send(ctx: NotifyContext, result: NotifierResult): Promise<number | null> {
    const drained = await this.outbox.drain(ctx);
    result.records.push(...drained.records);
    result.disable.push(...drained.disable);
    result.unreported.push(...drained.unreported);
    return drained.nextDueAt;
  }
}

const earliest = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
