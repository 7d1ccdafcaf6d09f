import type { ServerAlert } from '@pulsewire/protocol';
import { AlertEngine, type SilentHost } from '../../alerts/engine.ts';
import type { AlertTransition, EngineHost } from '../../alerts/types.ts';
import { openDatabase, type Queryable } from '../../db/client.ts';
import { type Config, parseConfig } from '../../env.ts';
import { log } from '../../http/logger.ts';
import type { BatchObservation } from '../../ingest/alert-observation.ts';
import { notifiedAlert } from '../../notify/messages.ts';
import { Notifier } from '../../notify/notifier.ts';
import { createSender } from '../../notify/sender.ts';
import { suppressionOf } from '../../notify/suppression.ts';
import type { DeliveryRecord, NotifyContext } from '../../notify/types.ts';
import { type AlertConfig, loadAlertConfig } from './config.ts';
import { disableChannel, recordDeliveries, recordedState, recordTransitions } from './records.ts';
import { runScheduled, SCHEDULED_INTERVAL_MS } from './scheduled.ts';

/** Who the object is and where its dashboard lives: told by the Worker, kept for alarms. */
export interface AlertingIdentity {
  tenantId: string;
  /** Dashboard origin for links in notifications. */
  origin: string;
}

const IDENTITY_KEY = 'alerting:identity';
const QUEUE_PREFIX = 'alerting:q:';
const SCHEDULED_KEY = 'alerting:scheduled-at';
/** The configuration is read again this often even without a change call (new hosts, members, names). */
const CONFIG_TTL_MS = 5 * 60_000;
/** After a failed Postgres write, the queue is retried this much later. */
const RETRY_MS = 10_000;
/** While the engine is short of memory, it is said this often at most. */
const MEMORY_WARNING_MS = 60 * 60_000;

/** Transitions not yet notified or not yet recorded in Postgres: the object's own outbox for them. */
interface Queued {
  transitions: AlertTransition[];
  notified: boolean;
}

export interface CoordinatorDeps {
  storage: DurableObjectStorage;
  env: () => Parameters<typeof parseConfig>[0];
  /** Sends an alert change to the dashboards that follow alerts. */
  publish(alert: ServerAlert['alert']): void;
  /** Sets the object's alarm no later than `at` (the object merges it with its own deadlines). */
  wakeAt(at: number): Promise<void>;
}

/**
 * Alerting inside the tenant object: feeds batches and alarms to the engine, sends each transition
 * live at once, and hands it to the notifier and to `alert_events` from the alarm, through a small
 * queue in storage, so the ingest path never waits on Postgres or a channel, and an eviction loses
 * nothing (design.md, "Alerts").
 *
 * The configuration (rules, channels, silences, windows, hosts, members) is read from Postgres on
 * the first need after a wake-up, after `configChanged`, and every few minutes; batches in between
 * cost no query. Without a database (the object's own unit tests) alerting is off.
 */
export class AlertCoordinator {
  readonly #deps: CoordinatorDeps;
  #identity: AlertingIdentity | null = null;
  #engine: AlertEngine | null = null;
  #notifier: Notifier | null = null;
  #config: AlertConfig | null = null;
  #configAt = 0;
  #loading: Promise<AlertEngine | null> | null = null;
  /** The connection of the run under way, for e-mail's dev outbox. */
  #database: Queryable | null = null;
  /**
   * While an alarm drains and notifies, it awaits the network, and batches or API calls may come in
   * and ask for a wake-up; the object's closing schedule then replaces the alarm they set. The
   * earliest they asked for is kept here and answered with the alarm's own next time.
   */
  #alarmBusy = false;
  #askedWhileBusy: number | null = null;
  #memoryWarnedAt = Number.NEGATIVE_INFINITY;

  constructor(deps: CoordinatorDeps) {
    this.#deps = deps;
  }

  #settings(): Config {
    return parseConfig(this.#deps.env());
  }

  /** A batch was stored: evaluate it. Transitions are sent live now and queued for the alarm. */
  async observe(identity: AlertingIdentity, observation: BatchObservation, pushIntervalMs: number): Promise<void> {
    const engine = await this.#ready(identity);
    if (!engine) return;
    const now = Date.now();
    const transitions = await engine.observe({ ...observation, pushIntervalMs }, now);
    await this.#accept(transitions, now);
    const wake = engine.nextWakeAt(now);
    if (wake !== null) await this.#wake(wake);
  }

  /**
   * From the object's alarm: time-based transitions (for, keep firing, host down, stale), scheduled
   * forecast/anomaly evaluation, then the queue (notify, record) and the notifier's own deadlines.
   * Answers the next time it needs the alarm.
   */
  async onAlarm(
    silentHosts: ReadonlyMap<string, { lastSeen: number; pushIntervalMs: number }>,
  ): Promise<number | null> {
    const identity = await this.#storedIdentity();
    if (!identity) return null;
    const engine = await this.#ready(identity);
    if (!engine || !this.#config) return null;
    const now = Date.now();
    // A safety net first: if the object is evicted in the middle of a send, this alarm comes back
    // once the attempt's lease has run out, and the outbox sends the same message id again.
    await this.#deps.wakeAt(now + this.#settings().NOTIFY_TIMEOUT_MS + 1000);
    const silent = new Map<string, SilentHost>();
    for (const [hostId, p] of silentHosts) {
      const host = this.#host(hostId);
      if (host) silent.set(hostId, { host, lastSeen: p.lastSeen, pushIntervalMs: p.pushIntervalMs });
    }
    await this.#accept(await engine.tick(now, silent), now);
    this.#warnWhenShort(engine, identity.tenantId, now);

    const scheduledAt = (await this.#deps.storage.get<number>(SCHEDULED_KEY)) ?? 0;
    let nextScheduled = scheduledAt + SCHEDULED_INTERVAL_MS;
    if (nextScheduled <= now && engine.scheduledWork().length > 0) {
      await this.#withDatabase(async (database) => {
        await this.#accept(await runScheduled(database, identity.tenantId, engine, now), now);
      });
      await this.#deps.storage.put(SCHEDULED_KEY, now);
      nextScheduled = now + SCHEDULED_INTERVAL_MS;
    }

    this.#alarmBusy = true;
    this.#askedWhileBusy = null;
    let queueRetry: number | null;
    let notifyDue: number | null;
    try {
      queueRetry = await this.#drainQueue(identity, now);
      notifyDue = await this.#runNotifier(identity, [], now);
    } finally {
      this.#alarmBusy = false;
    }
    return earliest(
      engine.nextWakeAt(now),
      queueRetry,
      notifyDue,
      engine.scheduledWork().length > 0 ? nextScheduled : null,
      this.#askedWhileBusy,
    );
  }

  /** Rules, channels, silences or windows changed in Postgres. */
  async configChanged(identity: Pick<AlertingIdentity, 'tenantId'>): Promise<void> {
    const known = (await this.#storedIdentity()) ?? { ...identity, origin: '' };
    this.#configAt = 0;
    const engine = await this.#ready({ ...known, tenantId: identity.tenantId });
    if (engine) await this.#wake(Date.now());
  }

  async acknowledge(identity: Pick<AlertingIdentity, 'tenantId'>, alertId: string): Promise<boolean> {
    const known = (await this.#storedIdentity()) ?? { ...identity, origin: '' };
    const engine = await this.#ready({ ...known, tenantId: identity.tenantId });
    if (!engine) return false;
    const acknowledged = await engine.acknowledge(alertId);
    await this.#notifier?.acknowledge([alertId]);
    const alert = engine.activeAlerts().find((a) => a.alertId === alertId);
    if (alert) {
      this.#deps.publish({
        id: alert.alertId,
        ruleId: alert.ruleId,
        ruleName: this.#config?.notifyRules.get(alert.ruleId)?.name ?? '',
        hostId: alert.hostId,
        level: alert.level,
        state: alert.state,
        metric: alert.series.split('{')[0] ?? '',
        series: alert.series,
        value: alert.value,
        threshold: alert.threshold,
        message: alert.message,
        at: new Date().toISOString(),
        acknowledged: true,
      });
    }
    return acknowledged;
  }

  /** A host was revoked or deleted: its open alerts end (`host_removed`), notified and recorded as usual. */
  async forgetHost(identity: Pick<AlertingIdentity, 'tenantId'>, hostId: string): Promise<void> {
    const known = (await this.#storedIdentity()) ?? { ...identity, origin: '' };
    const engine = await this.#ready({ ...known, tenantId: identity.tenantId });
    if (!engine) return;
    this.#config?.hosts.delete(hostId);
    const now = Date.now();
    await this.#accept(await engine.removeHost(hostId, now), now);
  }

  /** "Send test": one message through the same outbox, at once; answers its delivery-log line. */
  async sendTest(identity: AlertingIdentity, channelId: string): Promise<DeliveryRecord | null> {
    const engine = await this.#ready(identity, true);
    const config = this.#config;
    const channel = config?.channels.find((c) => c.id === channelId);
    if (!engine || !channel || !this.#notifier) return null;
    const now = Date.now();
    const outcome = await this.#withDatabase(async (database) => {
      const result = await this.#notifier?.sendTest(this.#context(identity, now), channel);
      if (!result) return null;
      await this.#applyNotifierResult(database, identity.tenantId, result);
      return result;
    });
    if (outcome?.nextDueAt != null) await this.#wake(outcome.nextDueAt);
    return outcome?.records.filter((r) => r.kind === 'test' && r.channelId === channelId).at(-1) ?? null;
  }

  // ------------------------------------------------------------------ internals

  /** Asks the object for its alarm by `at`, remembering it if a running alarm would overwrite it. */
  async #wake(at: number): Promise<void> {
    if (this.#alarmBusy) this.#askedWhileBusy = earliest(this.#askedWhileBusy, at);
    await this.#deps.wakeAt(at);
  }

  async #storedIdentity(): Promise<AlertingIdentity | null> {
    this.#identity ??= (await this.#deps.storage.get<AlertingIdentity>(IDENTITY_KEY)) ?? null;
    return this.#identity;
  }

  /** The engine with a fresh enough configuration, or null when alerting is off (no database). */
  async #ready(identity: AlertingIdentity, forceConfig = false): Promise<AlertEngine | null> {
    if (!this.#settings().DATABASE_URL) return null;
    const stored = await this.#storedIdentity();
    if (
      identity.origin !== '' &&
      (!stored || stored.tenantId !== identity.tenantId || stored.origin !== identity.origin)
    ) {
      this.#identity = identity;
      await this.#deps.storage.put(IDENTITY_KEY, identity); // once per object, and when the origin changes
    }
    const now = Date.now();
    if (this.#engine && this.#config && !forceConfig && now - this.#configAt < CONFIG_TTL_MS) return this.#engine;
    // One load at a time: batches arriving meanwhile wait for it rather than each asking Postgres.
    this.#loading ??= this.#load(identity.tenantId).finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  async #load(tenantId: string): Promise<AlertEngine | null> {
    const now = Date.now();
    let config: AlertConfig;
    try {
      config = await this.#withDatabase((database) => loadAlertConfig(database, tenantId, now));
    } catch (error) {
      log('warn', 'alerting: could not load the configuration; evaluating with the last one', {
        tenantId,
        error: describe(error),
      });
      return this.#engine && this.#config ? this.#engine : null;
    }
    this.#config = config;
    this.#configAt = now;
    this.#engine ??= await AlertEngine.open(this.#deps.storage, {
      now,
      memoryBudgetBytes: this.#settings().ALERT_MEMORY_BUDGET_BYTES,
    });
    const settings = () => this.#settings();
    const database = () => this.#database;
    this.#notifier ??= new Notifier(this.#deps.storage, {
      send: createSender({
        mode: this.#settings().PULSEWIRE_MODE,
        // Read at send time: the dev outbox (local mode) writes through the run's own connection.
        mail: {
          get config() {
            return settings();
          },
          get database() {
            return database();
          },
        },
        recipients: async (to) =>
          to.kind === 'addresses'
            ? to.addresses
            : [...new Set(to.roles.flatMap((r) => config.recipients.get(r) ?? []))],
      }),
      timeoutMs: this.#settings().NOTIFY_TIMEOUT_MS,
      ...(this.#settings().NOTIFY_RETRY_SCALE !== undefined ? { retryScale: this.#settings().NOTIFY_RETRY_SCALE } : {}),
    });
    await this.#accept(await this.#engine.setRules(config.rules, now), now);
    return this.#engine;
  }

  #host(hostId: string): EngineHost | undefined {
    return this.#config?.hosts.get(hostId);
  }

  /**
   * The engine stays within its memory budget by leaving rule × series pairs unevaluated
   * (docs/decisions.md, "Alerts"): say so, with the figures, once an hour while it lasts.
   */
  #warnWhenShort(engine: AlertEngine, tenantId: string, now: number): void {
    const memory = engine.memory();
    if (memory.unwatched === 0 || now - this.#memoryWarnedAt < MEMORY_WARNING_MS) return;
    this.#memoryWarnedAt = now;
    log('warn', 'alerting: over its memory budget; some rule × series pairs are not evaluated', {
      tenantId,
      unwatched: memory.unwatched,
      accountedBytes: memory.accountedBytes,
      budgetBytes: memory.budgetBytes,
    });
  }

  /** Sends transitions live and queues them for notifying and recording (one storage write per batch of them). */
  async #accept(transitions: readonly AlertTransition[], now: number): Promise<void> {
    if (transitions.length === 0) return;
    for (const t of transitions) this.#deps.publish(this.#frame(t));
    const queued: Queued = { transitions: [...transitions], notified: false };
    await this.#deps.storage.put(`${QUEUE_PREFIX}${String(now).padStart(15, '0')}:${crypto.randomUUID()}`, queued);
    await this.#wake(now);
  }

  #frame(t: AlertTransition): ServerAlert['alert'] {
    return {
      id: t.alertId,
      ruleId: t.ruleId,
      ruleName: this.#config?.notifyRules.get(t.ruleId)?.name ?? '',
      hostId: t.hostId,
      level: t.level,
      state: recordedState(t.to),
      metric: t.series.split('{')[0] ?? '',
      series: t.series,
      value: t.value,
      threshold: t.threshold,
      message: t.message,
      at: new Date(t.at).toISOString(),
    };
  }

  #context(identity: AlertingIdentity, now: number): NotifyContext {
    const config = this.#config;
    return {
      organizationId: identity.tenantId,
      origin: identity.origin || this.#settings().PUBLIC_URL?.replace(/\/$/, '') || '',
      now,
      rules: config?.notifyRules ?? new Map(),
      channels: config?.channels ?? [],
      silences: config?.silences ?? [],
      maintenanceWindows: config?.windows ?? [],
      hostNames: new Map([...(config?.hosts.values() ?? [])].map((h) => [h.id, h.name])),
    };
  }

  /** Notifies queued transitions (once each), then records them; answers when to retry, if Postgres failed. */
  async #drainQueue(identity: AlertingIdentity, now: number): Promise<number | null> {
    const queue = await this.#deps.storage.list<Queued>({ prefix: QUEUE_PREFIX });
    if (queue.size === 0) return null;
    try {
      await this.#withDatabase(async (database) => {
        for (const [key, entry] of queue) {
          if (!entry.notified) {
            await this.#runNotifierWith(database, identity, entry.transitions, now);
            entry.notified = true;
            await this.#deps.storage.put(key, entry);
          }
          const context = this.#context(identity, now);
          await recordTransitions(
            database,
            identity.tenantId,
            entry.transitions.map((transition) => ({
              transition,
              ruleName: context.rules.get(transition.ruleId)?.name ?? '(deleted rule)',
              silenced: this.#silenced(transition, context),
            })),
          );
          await this.#deps.storage.delete(key);
        }
      });
      return null;
    } catch (error) {
      log('warn', 'alerting: could not record or notify transitions; retrying', {
        tenantId: identity.tenantId,
        error: describe(error),
      });
      return now + RETRY_MS;
    }
  }

  #silenced(t: AlertTransition, context: NotifyContext): boolean {
    const rule = context.rules.get(t.ruleId);
    if (!rule) return false;
    return suppressionOf(notifiedAlert(t, rule, context), context) !== null;
  }

  async #runNotifier(identity: AlertingIdentity, transitions: AlertTransition[], now: number): Promise<number | null> {
    try {
      return await this.#withDatabase((database) => this.#runNotifierWith(database, identity, transitions, now));
    } catch (error) {
      log('warn', 'alerting: notifier run failed; retrying', { tenantId: identity.tenantId, error: describe(error) });
      return now + RETRY_MS;
    }
  }

  async #runNotifierWith(
    database: Queryable,
    identity: AlertingIdentity,
    transitions: readonly AlertTransition[],
    now: number,
  ): Promise<number | null> {
    if (!this.#notifier) return null;
    const result = await this.#notifier.run(this.#context(identity, now), transitions);
    await this.#applyNotifierResult(database, identity.tenantId, result);
    return result.nextDueAt;
  }

  async #applyNotifierResult(
    database: Queryable,
    tenantId: string,
    result: Awaited<ReturnType<Notifier['run']>>,
  ): Promise<void> {
    await recordDeliveries(database, tenantId, result.records);
    for (const { channelId, reason } of result.disable) {
      await disableChannel(database, tenantId, channelId, reason);
      const channel = this.#config?.channels.find((c) => c.id === channelId);
      if (channel) channel.enabled = false;
    }
    for (const failure of result.unreported) {
      log('error', 'alerting: a channel keeps failing and no owner e-mail channel can be told', {
        tenantId,
        ...failure,
      });
    }
  }

  async #withDatabase<T>(work: (database: Queryable) => Promise<T>): Promise<T> {
    const handle = openDatabase(this.#settings());
    const outer = this.#database;
    this.#database = handle.db;
    try {
      return await work(handle.db);
    } finally {
      this.#database = outer;
      await handle.close().catch(() => {});
    }
  }
}

function earliest(...times: (number | null)[]): number | null {
  let best: number | null = null;
  for (const t of times) if (t !== null && (best === null || t < best)) best = t;
  return best;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
