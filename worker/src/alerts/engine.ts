import {
  type AlertLevel,
  type AppEvent,
  matchesLabels,
  type SeriesLabels,
  type SeriesPoint,
  seriesKey,
} from '@pulsewire/protocol';
import { type CompiledRule, compileRule, hash64, SERIES_KINDS } from './compiled-rule.ts';
import {
  ALERT_MEMORY_BUDGET_BYTES,
  HOST_OVERHEAD_BYTES,
  INSTANCE_BYTES,
  MemoryBudget,
  WINDOW_OVERHEAD_BYTES,
} from './memory-budget.ts';
import { formatDuration } from './messages.ts';
import { SeriesWindow, type WindowMemory } from './series-window.ts';
import {
  applyVerdict,
  deadline,
  disposable,
  end,
  expire,
  fireNow,
  type Instance,
  markStale,
  newInstance,
  type Step,
  type Verdict,
} from './state-machine.ts';
import { type AlertStorage, STORAGE_BATCH } from './storage.ts';
import type {
  AlertEndCause,
  AlertPhase,
  AlertTransition,
  EngineHost,
  EngineRule,
  HostObservation,
  ScheduledObservation,
} from './types.ts';
import { noDataGraceMs, noDataVerdict, scheduledVerdict, seriesVerdict } from './verdicts.ts';

/** Storage keys: one record per alert instance, and the last boot time seen per host. */
export const INSTANCE_PREFIX = 'alerts:i:';
export const BOOT_PREFIX = 'alerts:boot:';

/**
 * Boot times are computed by the agent as now − uptime, rounded to the second; a clock adjustment
 * moves them too. A change smaller than this is not a reboot.
 */
export const BOOT_JITTER_MS = 60_000;

/**
 * An open alert whose series stopped arriving while its host still reports (a disk unmounted, a
 * container removed) ends after this long beyond its window, as `series_gone`.
 */
export const SERIES_GONE_MS = 10 * 60_000;

/** Open event alerts and duration timers per event rule; past it, new subjects are not tracked. */
export const MAX_EVENT_INSTANCES_PER_RULE = 1000;

/** What the object knows of a host that stopped reporting (presence status stale or offline). */
export interface SilentHost {
  host: EngineHost;
  /** Newest sample time seen. */
  lastSeen: number;
  pushIntervalMs: number;
}

/** An open alert as the engine holds it now (value and peak are current, not only as last stored). */
export interface ActiveAlert {
  alertId: string;
  ruleId: string;
  hostId: string | null;
  hostName: string | null;
  series: string;
  labels: Record<string, string>;
  state: Exclude<AlertPhase, 'ok'>;
  level: AlertLevel;
  value: number | null;
  peak: number | null;
  threshold: number | null;
  message: string;
  startedAt: number;
  firedAt: number | null;
  acknowledged: boolean;
  flapping: boolean;
}

/** One forecast or anomaly rule and the series the object should evaluate for it from history. */
export interface ScheduledWork {
  rule: EngineRule;
  targets: { host: EngineHost; series: string; labels: SeriesLabels }[];
}

/** Counts for memory accounting (see docs/decisions.md, "Alerts"). */
export interface EngineStats {
  hosts: number;
  windows: number;
  buckets: number;
  /** Bytes of window points held now (8 per number). */
  windowBytes: number;
  instances: number;
  /** Bytes of instance records as JSON (what storage holds). */
  instanceBytes: number;
  /** The engine's own account of its memory, checked against `budgetBytes` before it grows. */
  accountedBytes: number;
  budgetBytes: number;
  /**
   * Rule × series pairs that hosts' latest batches carried but that were not evaluated, for want of
   * memory (no window could be opened, or no alert). 0 while within the budget.
   */
  unwatched: number;
  /**
   * Windows refused memory at a cadence faster than 10 s: they kept one point per bucket instead of
   * merging, or fewer buckets than their length needs.
   */
  degradedWindows: number;
}

export interface EngineOptions {
  now?: number;
  newId?: () => string;
  /** The engine's memory budget (tests); {@link ALERT_MEMORY_BUDGET_BYTES} by default. */
  memoryBudgetBytes?: number;
}

/** A series key shared by every host that reports it (`cpu.total` is the same everywhere), with its parts. */
interface SeriesName {
  key: string;
  metric: string;
  labels: SeriesLabels;
}

/** A set of host labels, shared by the hosts that have the same ones, with the rules' scope answers for it. */
interface LabelSet {
  key: string;
  /** By rule ordinal: 0 not asked yet, then IN or OUT (a byte per rule). Reset when the rules change. */
  answers: Uint8Array;
}

/** A window of one host's series. */
class HostWindow extends SeriesWindow {
  readonly series: SeriesName;

  constructor(series: SeriesName, seconds: number, memory: WindowMemory) {
    super(seconds, memory);
    this.series = series;
  }
}

interface KnownHost {
  host: EngineHost;
  /** Receipt time of the last observation (or the object's last seen for a silent host). */
  lastSeen: number;
  pushIntervalMs: number;
  /** Its labels as of its last batch; null for a host known only as silent since a wake-up (not scoped yet). */
  labels: LabelSet | null;
  /** Rule × series pairs of its latest batch left unevaluated for want of memory. */
  unwatched: number;
  /** One per series and length in use, in memory only (a flat array: lighter than maps for a few dozen). */
  windows: HostWindow[];
  /** The series seen for forecast/anomaly rules (no values). */
  scheduled: SeriesName[];
}

/** One series a batch touched: the rules that watch it, each with its window. */
interface Touched {
  metric: string;
  labels: SeriesLabels;
  rules: Map<CompiledRule, SeriesWindow>;
  /** Rules that would watch it, with no room for their window. */
  refused?: Set<CompiledRule>;
}

type EventRule = CompiledRule & { condition: Extract<CompiledRule['condition'], { kind: 'event' }> };

/**
 * Alert evaluation for one tenant, held by the tenant object: rules compiled and indexed by metric,
 * short windows of the series they watch (in memory, bounded), and the state of every alert
 * instance (in storage, written on transitions only).
 *
 * The object calls `observe` for every ingest batch, `tick` from its alarm (at `nextWakeAt`),
 * `applyScheduled` with forecast/anomaly results computed from history, and records every
 * transition returned. A new engine over the same storage resumes where the last one stopped.
 */
export class AlertEngine {
  readonly #storage: AlertStorage;
  readonly #newId: () => string;
  #rules = new Map<string, CompiledRule>();
  /** Enabled threshold and rate rules by metric path: a batch evaluates only rules on what it carries. */
  #seriesRules = new Map<string, CompiledRule[]>();
  /** Enabled forecast and anomaly rules by metric path (the series they may ask the object about). */
  #scheduledRules = new Map<string, CompiledRule[]>();
  #noDataRules: CompiledRule[] = [];
  #rebootRules: CompiledRule[] = [];
  #eventRules: EventRule[] = [];
  /** Each rule's place in `#rules`, for the per-host scope answers. */
  #ordinals = new Map<string, number>();

  readonly #instances = new Map<string, Instance>();
  /** Instance keys whose record is in storage. */
  readonly #stored = new Set<string>();
  readonly #byAlertId = new Map<string, string>();
  readonly #byHost = new Map<string, Set<string>>();
  readonly #byRule = new Map<string, Set<string>>();
  /** When each open series instance last had data (memory only; the load time after a wake-up). */
  readonly #lastData = new Map<string, number>();

  readonly #hosts = new Map<string, KnownHost>();
  #silent = new Map<string, SilentHost>();
  readonly #bootTimes = new Map<string, number>();
  #lastSweep = 0;
  /**
   * Series names and label sets, one of each for all the hosts that share it. Rebuilt from the
   * hosts at each sweep, so that those no host uses any more go.
   */
  #seriesNames = new Map<string, SeriesName>();
  #labelSets = new Map<string, LabelSet>();

  // Writes gathered during one call, flushed at its end.
  readonly #dirty = new Set<string>();
  readonly #toDelete = new Set<string>();
  readonly #bootDirty = new Set<string>();

  readonly #memory: MemoryBudget;
  /** The sum of the hosts' `unwatched`. */
  #unwatched = 0;

  private constructor(storage: AlertStorage, newId: () => string, budgetBytes: number) {
    this.#storage = storage;
    this.#newId = newId;
    this.#memory = new MemoryBudget(budgetBytes, () => this.#hosts.size * (HOST_OVERHEAD_BYTES + this.#rules.size));
  }

  /** Loads stored state. Call `setRules` next: it also resets state a rule edit made obsolete. */
  static async open(storage: AlertStorage, options: EngineOptions = {}): Promise<AlertEngine> {
    const engine = new AlertEngine(
      storage,
      options.newId ?? (() => crypto.randomUUID()),
      options.memoryBudgetBytes ?? ALERT_MEMORY_BUDGET_BYTES,
    );
    const now = options.now ?? Date.now();
    const [instances, boots] = await Promise.all([
      storage.list({ prefix: INSTANCE_PREFIX }),
      storage.list({ prefix: BOOT_PREFIX }),
    ]);
    const unreadable: string[] = [];
    for (const [storageKey, value] of instances) {
      const inst = value as Instance;
      if (typeof inst?.ruleId !== 'string' || typeof inst.phase !== 'string') {
        unreadable.push(storageKey);
        continue;
      }
      const key = instanceKey(inst.ruleId, inst.hostId, inst.series);
      engine.#track(key, inst);
      engine.#stored.add(key);
      if (inst.phase !== 'ok') engine.#lastData.set(key, now);
    }
    for (const [storageKey, value] of boots) {
      if (typeof value === 'number') engine.#bootTimes.set(storageKey.slice(BOOT_PREFIX.length), value);
    }
    for (let i = 0; i < unreadable.length; i += STORAGE_BATCH) {
      await storage.delete(unreadable.slice(i, i + STORAGE_BATCH));
    }
    return engine;
  }

  /**
   * Replaces the rule set. Instances of a removed or disabled rule resolve (cause `rule_removed` /
   * `rule_disabled`); a rule whose condition changed resets its instances (`rule_changed`), as does
   * a scope that no longer covers a known host. Other edits (name, labels, for, keep_firing_for,
   * notify) apply to open instances as they are.
   */
  async setRules(rules: readonly EngineRule[], now: number): Promise<AlertTransition[]> {
    this.#rules = new Map(rules.map((r) => [r.id, compileRule(r)]));
    this.#ordinals = new Map([...this.#rules.keys()].map((id, i) => [id, i]));
    this.#seriesRules = new Map();
    this.#scheduledRules = new Map();
    this.#noDataRules = [];
    this.#rebootRules = [];
    this.#eventRules = [];
    for (const rule of this.#rules.values()) {
      if (!rule.spec.enabled) continue;
      const c = rule.condition;
      if (c.kind === 'threshold' || c.kind === 'rate') pushTo(this.#seriesRules, c.metric.path, rule);
      else if (c.kind === 'forecast' || c.kind === 'anomaly') pushTo(this.#scheduledRules, c.metric.path, rule);
      else if (c.kind === 'no_data') this.#noDataRules.push(rule);
      else if (c.kind === 'reboot') this.#rebootRules.push(rule);
      else this.#eventRules.push(rule as EventRule);
    }
    for (const set of this.#labelSets.values()) set.answers = new Uint8Array(this.#rules.size);

    const out: AlertTransition[] = [];
    for (const [key, inst] of [...this.#instances]) {
      const rule = this.#rules.get(inst.ruleId);
      let cause: AlertEndCause | null = null;
      if (!rule) cause = 'rule_removed';
      else if (!rule.spec.enabled) cause = 'rule_disabled';
      else if (rule.fingerprint !== inst.fingerprint) cause = 'rule_changed';
      else if (inst.hostId !== null) {
        const known = this.#hosts.get(inst.hostId);
        if (known && !this.#inScope(rule, known.host)) cause = 'rule_changed';
      }
      if (cause) this.#finish(key, inst, endStep(inst, now, cause), now, out, true);
    }
    this.#dropUnusedWindows();
    await this.#flush();
    return out;
  }

  /** One ingest batch of one host. */
  async observe(obs: HostObservation, now: number): Promise<AlertTransition[]> {
    const { host } = obs;
    const out: AlertTransition[] = [];
    const labels = this.#labelSet(host.labels);
    const known = this.#hosts.get(host.id);
    const entry: KnownHost = known ?? {
      host,
      lastSeen: now,
      pushIntervalMs: obs.pushIntervalMs,
      labels: null,
      unwatched: 0,
      windows: [],
      scheduled: [],
    };
    const unwatchedBefore = entry.unwatched;
    const relabelled = entry.labels !== labels;
    Object.assign(entry, { host, lastSeen: now, pushIntervalMs: obs.pushIntervalMs, labels, unwatched: 0 });
    if (!known) this.#hosts.set(host.id, entry);
    if (this.#silent.delete(host.id)) {
      // Back from silence: its series get a fresh SERIES_GONE_MS to show up again.
      for (const key of this.#byHost.get(host.id) ?? []) if (this.#lastData.has(key)) this.#lastData.set(key, now);
    }
    if (relabelled) this.#rescope(host, now, out);

    for (const rule of this.#noDataRules) {
      const key = instanceKey(rule.id, host.id, '');
      const inst = this.#instances.get(key);
      if (!inst) continue;
      const verdict = noDataVerdict(noDataCondition(rule), now, obs.pushIntervalMs, now, host.name);
      this.#finish(key, inst, applyVerdict(inst, verdict, rule.timing, now, this.#newId), now, out);
    }
    if (obs.bootTime !== undefined) this.#checkBoot(host, obs.bootTime, now, out);

    for (const [series, { metric, labels, rules }] of this.#feed(host, obs, entry)) {
      for (const [rule, window] of rules) {
        // Most hosts have no open alert: no key to build for them.
        const open = this.#byHost.get(host.id)?.size;
        const inst = open ? this.#instances.get(instanceKey(rule.id, host.id, series)) : undefined;
        const c = rule.condition as Extract<CompiledRule['condition'], { kind: 'threshold' | 'rate' }>;
        const current = inst && inst.phase !== 'ok' ? inst.level : null;
        const verdict = seriesVerdict(c, window, current, metric, labels, host.name);
        if (!verdict) continue;
        if (!inst && verdict.level === null) continue; // the common case: healthy, nothing to keep
        if (!inst && !this.#memory.fits(INSTANCE_BYTES)) {
          entry.unwatched++;
          continue;
        }
        this.#evaluate(rule, host, series, { ...labels, ...rule.spec.labels }, verdict, now, out);
      }
    }

    this.#unwatched += entry.unwatched - unwatchedBefore;
    if (obs.events.length > 0 && this.#eventRules.length > 0) this.#onEvents(host, obs.events, now, out);
    await this.#flush();
    return out;
  }

  /**
   * Time passes: `silentHosts` are the hosts whose presence is stale or offline now. Their series
   * alerts turn stale; host-down rules fire past their grace; pending alerts whose `for` elapsed
   * fire; `keep_firing_for`, reboot and event alerts run out; duration timers fire.
   */
  async tick(now: number, silentHosts: ReadonlyMap<string, SilentHost>): Promise<AlertTransition[]> {
    const out: AlertTransition[] = [];
    this.#silent = new Map(silentHosts);
    for (const [id, silent] of silentHosts) {
      const known = this.#hosts.get(id);
      if (known) {
        known.host = silent.host;
        known.lastSeen = Math.max(known.lastSeen, silent.lastSeen);
        known.pushIntervalMs = silent.pushIntervalMs;
      } else {
        this.#hosts.set(id, {
          host: silent.host,
          lastSeen: silent.lastSeen,
          pushIntervalMs: silent.pushIntervalMs,
          labels: null,
          unwatched: 0,
          windows: [],
          scheduled: [],
        });
      }
      for (const key of [...(this.#byHost.get(id) ?? [])]) {
        const inst = this.#instances.get(key);
        const rule = inst && this.#rules.get(inst.ruleId);
        if (inst && rule && SERIES_KINDS.has(rule.condition.kind))
          this.#finish(key, inst, markStale(inst, now), now, out);
      }
    }

    for (const rule of this.#noDataRules) {
      for (const known of this.#hosts.values()) {
        if (!this.#inScope(rule, known.host)) continue;
        const verdict = noDataVerdict(
          noDataCondition(rule),
          known.lastSeen,
          known.pushIntervalMs,
          now,
          known.host.name,
        );
        const key = instanceKey(rule.id, known.host.id, '');
        if (verdict.level === null && !this.#instances.has(key)) continue;
        this.#evaluate(rule, known.host, '', rule.spec.labels, verdict, now, out);
      }
    }

    for (const [key, inst] of [...this.#instances]) {
      const rule = this.#rules.get(inst.ruleId);
      if (!rule) continue;
      if (inst.phase === 'ok' && inst.due !== null) {
        if (inst.due <= now) this.#fireDuration(key, inst, rule as EventRule, now, out);
        continue;
      }
      if (this.#seriesGone(key, inst, rule, now)) {
        this.#finish(key, inst, endStep(inst, now, 'series_gone'), now, out);
        continue;
      }
      this.#finish(key, inst, expire(inst, rule.timing, now), now, out);
    }

    if (now - this.#lastSweep >= 60_000) this.#sweepWindows(now);
    await this.#flush();
    return out;
  }

  /**
   * A forecast or anomaly result for one series of one host, computed by the object from history
   * (`evaluateForecast`, `evaluateAnomaly`). Ignored for a silent host (its alerts are stale) and for
   * rules or series it does not apply to.
   */
  async applyScheduled(
    ruleId: string,
    host: EngineHost,
    labels: SeriesLabels,
    observation: ScheduledObservation,
    now: number,
  ): Promise<AlertTransition[]> {
    const rule = this.#rules.get(ruleId);
    const c = rule?.condition;
    if (!rule?.spec.enabled || !c || (c.kind !== 'forecast' && c.kind !== 'anomaly')) return [];
    if (this.#silent.has(host.id) || !this.#inScope(rule, host) || !matchesLabels(c.metric.match, labels)) return [];
    const series = seriesKey(c.metric.path, labels);
    if (observation.level === null && !this.#instances.has(instanceKey(rule.id, host.id, series))) return [];
    const out: AlertTransition[] = [];
    const verdict = scheduledVerdict(observation, c.metric.path, labels, host.name);
    this.#evaluate(rule, host, series, { ...labels, ...rule.spec.labels }, verdict, now, out);
    await this.#flush();
    return out;
  }

  /** For each forecast/anomaly rule: the series seen on reporting hosts in scope, and those with open alerts. */
  scheduledWork(): ScheduledWork[] {
    const work: ScheduledWork[] = [];
    for (const rules of this.#scheduledRules.values()) {
      for (const rule of rules) {
        const targets: ScheduledWork['targets'] = [];
        const seen = new Set<string>();
        for (const [hostId, known] of this.#hosts) {
          if (known.scheduled.length === 0 || this.#silent.has(hostId) || !this.#inScope(rule, known.host)) continue;
          const c = rule.condition as Extract<CompiledRule['condition'], { kind: 'forecast' | 'anomaly' }>;
          for (const s of known.scheduled) {
            if (s.metric !== c.metric.path || !matchesLabels(c.metric.match, s.labels)) continue;
            targets.push({ host: known.host, series: s.key, labels: s.labels });
            seen.add(`${hostId}|${s.key}`);
          }
        }
        // Open alerts are re-evaluated even when their series was not seen since a wake-up, so they can end.
        for (const key of this.#byRule.get(rule.id) ?? []) {
          const inst = this.#instances.get(key);
          if (!inst || inst.phase === 'ok' || inst.hostId === null || seen.has(`${inst.hostId}|${inst.series}`))
            continue;
          const known = this.#hosts.get(inst.hostId);
          if (!known || this.#silent.has(inst.hostId)) continue;
          // The series' own labels: the instance's less the rule's (a series label the rule overrides is lost).
          const labels = { ...inst.labels };
          for (const name of Object.keys(rule.spec.labels)) delete labels[name];
          targets.push({ host: known.host, series: inst.series, labels });
        }
        if (targets.length > 0) work.push({ rule: rule.rule, targets });
      }
    }
    return work;
  }

  /** Marks an alert acknowledged (it stays open; the notifier stops re-notifying). False when unknown. */
  async acknowledge(alertId: string): Promise<boolean> {
    const key = this.#byAlertId.get(alertId);
    const inst = key === undefined ? undefined : this.#instances.get(key);
    if (!key || !inst || inst.phase === 'ok' || inst.alertId !== alertId) return false;
    if (!inst.acknowledged) {
      inst.acknowledged = true;
      this.#dirty.add(key);
      await this.#flush();
    }
    return true;
  }

  /** A host was removed: its alerts end (`host_removed`) and everything kept for it goes. */
  async removeHost(hostId: string, now: number): Promise<AlertTransition[]> {
    const out: AlertTransition[] = [];
    for (const key of [...(this.#byHost.get(hostId) ?? [])]) {
      const inst = this.#instances.get(key);
      if (inst) this.#finish(key, inst, endStep(inst, now, 'host_removed'), now, out, true);
    }
    const known = this.#hosts.get(hostId);
    this.#unwatched -= known?.unwatched ?? 0;
    for (const w of known?.windows ?? []) this.#closeWindow(w);
    this.#hosts.delete(hostId);
    this.#silent.delete(hostId);
    if (this.#bootTimes.delete(hostId)) this.#toDelete.add(`${BOOT_PREFIX}${hostId}`);
    await this.#flush();
    return out;
  }

  /**
   * The earliest time `tick` has something to do: a `for` or `keep_firing_for` ending, a host-down
   * grace running out, a reboot/event alert resolving, a duration timer, flapping calming down, an
   * open series alert whose series may be gone. Null when nothing is waiting. May be ≤ now.
   */
  nextWakeAt(now: number): number | null {
    let earliest = Number.POSITIVE_INFINITY;
    for (const [key, inst] of this.#instances) {
      const rule = this.#rules.get(inst.ruleId);
      if (!rule) continue;
      const at = deadline(inst, rule.timing);
      if (at !== null) earliest = Math.min(earliest, at);
      if (inst.phase !== 'ok' && (rule.condition.kind === 'threshold' || rule.condition.kind === 'rate')) {
        earliest = Math.min(earliest, (this.#lastData.get(key) ?? now) + SERIES_GONE_MS + rule.windowSeconds * 1000);
      }
    }
    for (const rule of this.#noDataRules) {
      const c = noDataCondition(rule);
      for (const known of this.#hosts.values()) {
        const inst = this.#instances.get(instanceKey(rule.id, known.host.id, ''));
        if ((inst && inst.phase !== 'ok') || !this.#inScope(rule, known.host)) continue;
        earliest = Math.min(earliest, known.lastSeen + noDataGraceMs(c, known.pushIntervalMs));
      }
    }
    return Number.isFinite(earliest) ? earliest : null;
  }

  /** Open alerts (pending, firing, stale) with their current value and peak. */
  activeAlerts(): ActiveAlert[] {
    const active: ActiveAlert[] = [];
    for (const inst of this.#instances.values()) {
      if (inst.phase === 'ok') continue;
      active.push({
        alertId: inst.alertId,
        ruleId: inst.ruleId,
        hostId: inst.hostId,
        hostName: inst.hostName,
        series: inst.series,
        labels: inst.labels,
        state: inst.phase,
        level: inst.level,
        value: inst.value,
        peak: inst.peak,
        threshold: inst.threshold,
        message: inst.message,
        startedAt: inst.startedAt,
        firedAt: inst.firedAt,
        acknowledged: inst.acknowledged,
        flapping: inst.flapping,
      });
    }
    return active;
  }

  stats(): EngineStats {
    let windows = 0;
    let buckets = 0;
    let windowBytes = 0;
    let degradedWindows = 0;
    for (const known of this.#hosts.values()) {
      for (const w of known.windows) {
        windows++;
        buckets += w.buckets;
        windowBytes += w.bytes;
        if (w.degraded) degradedWindows++;
      }
    }
    let instanceBytes = 0;
    for (const inst of this.#instances.values()) instanceBytes += JSON.stringify(inst).length;
    return {
      hosts: this.#hosts.size,
      windows,
      buckets,
      windowBytes,
      instances: this.#instances.size,
      instanceBytes,
      accountedBytes: this.#memory.usedBytes,
      budgetBytes: this.#memory.limitBytes,
      unwatched: this.#unwatched,
      degradedWindows,
    };
  }

  /** The budget's account, cheaply (no walk over windows): for the object to tell when it is short. */
  memory(): Pick<EngineStats, 'accountedBytes' | 'budgetBytes' | 'unwatched'> {
    return {
      accountedBytes: this.#memory.usedBytes,
      budgetBytes: this.#memory.limitBytes,
      unwatched: this.#unwatched,
    };
  }

  // ── evaluation ────────────────────────────────────────────────────────────────────────────

  /**
   * Feeds the batch's points to the windows of the rules that watch them; returns, per series
   * touched, the rules to evaluate with their window. The hot path: no string is built per point
   * and rule beyond the series key, once per point. Counts on `known` the pairs it had no room for.
   */
  #feed(host: EngineHost, obs: HostObservation, known: KnownHost): Map<string, Touched> {
    const touched = new Map<string, Touched>();
    // The host's windows by series, for this batch only (the host keeps a flat list: less memory).
    const bySeries = new Map<SeriesName, HostWindow[]>();
    for (const w of known.windows) pushTo(bySeries, w.series, w);
    for (const batch of [obs.samples, obs.custom]) {
      for (const { ts, points } of batch) {
        for (const point of points) {
          const rules = this.#seriesRules.get(point.metric);
          const scheduled = this.#scheduledRules.get(point.metric);
          if (!rules && !scheduled) continue;
          let name: SeriesName | undefined;
          let entry: Touched | undefined;
          let windows: HostWindow[] | undefined;
          let fed: SeriesWindow[] | undefined;
          for (const rule of rules ?? []) {
            const { match } = (rule.condition as Extract<CompiledRule['condition'], { kind: 'threshold' | 'rate' }>)
              .metric;
            if (!this.#covers(rule, host, known.labels) || (match.length > 0 && !matchesLabels(match, point.labels)))
              continue;
            if (!entry) {
              name ??= this.#seriesName(point);
              const series = name;
              entry = getOrCreate(touched, series.key, () => ({
                metric: series.metric,
                labels: series.labels,
                rules: new Map(),
              }));
              windows = bySeries.get(series);
            }
            let window = windows?.find((w) => w.seconds === rule.windowSeconds);
            if (!window) {
              const series = name as SeriesName;
              // An open alert keeps its window whatever the budget (it would end as series_gone without it).
              const alerting = () =>
                !!this.#byHost.get(host.id)?.size && this.#instances.has(instanceKey(rule.id, host.id, series.key));
              window = this.#openWindow(series, rule.windowSeconds, alerting) ?? undefined;
              if (!window) {
                entry.refused ??= new Set();
                entry.refused.add(rule);
                continue;
              }
              if (windows) windows.push(window);
              else {
                windows = [window];
                bySeries.set(window.series, windows);
              }
              known.windows.push(window);
            }
            // Rules with the same window share it: each point goes in once.
            if (!fed?.includes(window)) {
              window.add(ts, point.value);
              fed ??= [];
              fed.push(window);
            }
            entry.rules.set(rule, window);
          }
          for (const rule of scheduled ?? []) {
            const { match } = (rule.condition as Extract<CompiledRule['condition'], { kind: 'forecast' | 'anomaly' }>)
              .metric;
            if (!this.#covers(rule, host, known.labels) || !matchesLabels(match, point.labels)) continue;
            name ??= this.#seriesName(point);
            if (!known.scheduled.includes(name)) known.scheduled.push(name);
          }
        }
      }
    }
    for (const { refused } of touched.values()) known.unwatched += refused?.size ?? 0;
    return touched;
  }

  /** The shared name of a point's series. */
  #seriesName(point: Pick<SeriesPoint, 'metric' | 'labels'>): SeriesName {
    const key = seriesKey(point.metric, point.labels);
    return getOrCreate(this.#seriesNames, key, () => ({ key, metric: point.metric, labels: point.labels }));
  }

  /** The shared set of these labels (hosts with the same labels share scope answers). */
  #labelSet(labels: Record<string, string>): LabelSet {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    return getOrCreate(this.#labelSets, key, () => ({ key, answers: new Uint8Array(this.#rules.size) }));
  }

  /** A new window, if the budget has room for it (or `mustOpen` says it is needed whatever the budget). */
  #openWindow(series: SeriesName, seconds: number, mustOpen: () => boolean): HostWindow | null {
    const cost = SeriesWindow.openingBytes(seconds) + WINDOW_OVERHEAD_BYTES;
    if (!this.#memory.admitWindow(cost)) {
      if (!mustOpen()) return null;
      this.#memory.charge(cost);
    }
    return new HostWindow(series, seconds, this.#memory);
  }

  #closeWindow(window: SeriesWindow): void {
    this.#memory.release(window.grantedBytes + WINDOW_OVERHEAD_BYTES);
  }

  #evaluate(
    rule: CompiledRule,
    host: EngineHost,
    series: string,
    labels: Record<string, string>,
    verdict: Verdict,
    now: number,
    out: AlertTransition[],
  ): void {
    const key = instanceKey(rule.id, host.id, series);
    const inst = this.#instance(key, rule, host, series, labels);
    if (SERIES_KINDS.has(rule.condition.kind)) this.#lastData.set(key, now);
    this.#finish(key, inst, applyVerdict(inst, verdict, rule.timing, now, this.#newId), now, out);
  }

  #checkBoot(host: EngineHost, bootTime: number, now: number, out: AlertTransition[]): void {
    const previous = this.#bootTimes.get(host.id);
    if (previous !== undefined && Math.abs(bootTime - previous) <= BOOT_JITTER_MS) return;
    this.#bootTimes.set(host.id, bootTime);
    this.#bootDirty.add(host.id);
    // The first boot time seen is a baseline; one going backwards is a clock change, not a reboot.
    if (previous === undefined || bootTime < previous) return;
    for (const rule of this.#rebootRules) {
      if (!this.#inScope(rule, host)) continue;
      const c = rule.condition as Extract<CompiledRule['condition'], { kind: 'reboot' }>;
      const key = instanceKey(rule.id, host.id, '');
      const inst = this.#instance(key, rule, host, '', rule.spec.labels);
      const verdict: Verdict = {
        level: c.level,
        value: null,
        threshold: null,
        higherIsWorse: true,
        message: `${host.name} rebooted at ${new Date(bootTime).toISOString()}`,
      };
      this.#fireAndMaybeResolve(key, inst, rule, verdict, now + c.resolveAfterSeconds * 1000, now, out);
    }
  }

  #onEvents(host: EngineHost, events: readonly AppEvent[], now: number, out: AlertTransition[]): void {
    const ordered = [...events].sort((a, b) => a.ts - b.ts);
    for (const event of ordered) {
      for (const rule of this.#eventRules) {
        const c = rule.condition;
        if (!this.#inScope(rule, host) || !matchesLabels(c.match, event.labels ?? {})) continue;
        const key = instanceKey(rule.id, host.id, event.id);
        const existing = this.#instances.get(key);
        const subject = event.name ? `${event.name} (${event.id})` : event.id;
        if (c.mode === 'event') {
          if (event.kind === c.eventKind) {
            if (!existing && this.#full(rule)) continue;
            const inst = this.#instance(key, rule, host, event.id, { ...event.labels, ...rule.spec.labels });
            const occurrences = inst.phase === 'firing' ? (inst.value ?? 1) + 1 : 1;
            const detail = event.message ? `: ${event.message}` : '';
            const verdict: Verdict = {
              level: c.level,
              value: occurrences,
              threshold: null,
              higherIsWorse: true,
              message: `${event.kind} ${subject}${detail} on ${host.name}`,
            };
            this.#fireAndMaybeResolve(key, inst, rule, verdict, now + c.resolveAfterSeconds * 1000, now, out);
          } else if (event.kind === c.clearKind && existing) {
            this.#finish(key, existing, end(existing, now, `${event.kind} ${subject} on ${host.name}`), now, out);
          }
        } else if (event.kind === c.startKind) {
          if (existing && (existing.phase !== 'ok' || existing.due !== null)) continue; // already tracked
          if (!existing && this.#full(rule)) continue;
          const inst = this.#instance(key, rule, host, event.id, { ...event.labels, ...rule.spec.labels });
          // A timer, not yet an alert: stored (a job may outlive an eviction) but not reported.
          inst.due = event.ts + c.maxSeconds * 1000;
          inst.startedAt = event.ts;
          inst.message = subject;
          this.#dirty.add(key);
          if (inst.due <= now) this.#fireDuration(key, inst, rule, now, out);
        } else if (c.endKinds.includes(event.kind) && existing) {
          if (existing.phase === 'ok') {
            // Ended in time: the timer goes (or, with recent flips to remember, is rewritten without it).
            existing.due = null;
            this.#finish(key, existing, { transitions: [], persist: true }, now, out);
          } else {
            this.#finish(
              key,
              existing,
              end(existing, now, `${subject} ended (${event.kind}) on ${host.name}`),
              now,
              out,
            );
          }
        }
      }
    }
  }

  /** A duration timer ran out: the subject started and has not ended within maxSeconds. */
  #fireDuration(key: string, inst: Instance, rule: EventRule, now: number, out: AlertTransition[]): void {
    const c = rule.condition;
    if (c.mode !== 'duration') return;
    const running = now - inst.startedAt;
    const host = this.#hosts.get(inst.hostId ?? '')?.host.name ?? inst.hostName ?? 'unknown host';
    const verdict: Verdict = {
      level: c.level,
      value: Math.round(running / 1000),
      threshold: c.maxSeconds,
      higherIsWorse: true,
      message: `${inst.message} has run for ${formatDuration(running)} without ${c.endKinds.join(' or ')} (limit ${formatDuration(c.maxSeconds * 1000)}) on ${host}`,
    };
    // The alert itself starts now; it ends with an end event (or a rule change), not by a clock.
    this.#finish(key, inst, fireNow(inst, verdict, null, now, this.#newId), now, out);
  }

  #fireAndMaybeResolve(
    key: string,
    inst: Instance,
    rule: CompiledRule,
    verdict: Verdict,
    resolveAt: number,
    now: number,
    out: AlertTransition[],
  ): void {
    const step = fireNow(inst, verdict, resolveAt, now, this.#newId);
    // resolveAfterSeconds 0: a one-shot notice, fired and resolved at once.
    if (resolveAt <= now) step.transitions.push(...expire(inst, rule.timing, now).transitions);
    this.#finish(key, inst, step, now, out);
  }

  #seriesGone(key: string, inst: Instance, rule: CompiledRule, now: number): boolean {
    if (inst.phase === 'ok' || inst.hostId === null || this.#silent.has(inst.hostId)) return false;
    const kind = rule.condition.kind;
    if (kind !== 'threshold' && kind !== 'rate') return false;
    const last = this.#lastData.get(key) ?? now;
    return now - last > SERIES_GONE_MS + rule.windowSeconds * 1000;
  }

  #full(rule: CompiledRule): boolean {
    return (this.#byRule.get(rule.id)?.size ?? 0) >= MAX_EVENT_INSTANCES_PER_RULE;
  }

  /** A host first seen (since a wake-up) or relabelled: its alerts of rules that no longer cover it end. */
  #rescope(host: EngineHost, now: number, out: AlertTransition[]): void {
    for (const key of [...(this.#byHost.get(host.id) ?? [])]) {
      const inst = this.#instances.get(key);
      const rule = inst && this.#rules.get(inst.ruleId);
      if (inst && rule && !this.#inScope(rule, host))
        this.#finish(key, inst, endStep(inst, now, 'rule_changed'), now, out, true);
      else if (inst) inst.hostName = host.name;
    }
  }

  #inScope(rule: CompiledRule, host: EngineHost): boolean {
    const known = this.#hosts.get(host.id);
    return this.#covers(rule, host, known?.host === host ? known.labels : null);
  }

  /**
   * Whether a rule covers a host. Label selectors are answered once per set of labels (regular
   * expressions are not cheap) until the rules change; `labels` must be the host's, or null.
   */
  #covers(rule: CompiledRule, host: EngineHost, labels: LabelSet | null): boolean {
    const type = rule.spec.scope.type;
    if (type === 'all') return true;
    if (type === 'hosts' || labels === null) return rule.inScope(host);
    const ordinal = this.#ordinals.get(rule.id) ?? -1;
    const known = labels.answers[ordinal];
    if (known === IN) return true;
    if (known === OUT) return false;
    const answer = rule.inScope(host);
    if (known !== undefined) labels.answers[ordinal] = answer ? IN : OUT;
    return answer;
  }

  // ── instances and windows ─────────────────────────────────────────────────────────────────

  #instance(
    key: string,
    rule: CompiledRule,
    host: EngineHost,
    series: string,
    labels: Record<string, string>,
  ): Instance {
    let inst = this.#instances.get(key);
    if (!inst) {
      inst = newInstance({
        ruleId: rule.id,
        hostId: host.id,
        hostName: host.name,
        series,
        labels,
        fingerprint: rule.fingerprint,
      });
      this.#track(key, inst);
    }
    inst.hostName = host.name;
    return inst;
  }

  /** Records a step's transitions and writes; drops what is no longer worth remembering. */
  #finish(key: string, inst: Instance, step: Step, now: number, out: AlertTransition[], forget = false): void {
    out.push(...step.transitions);
    if (inst.alertId) this.#byAlertId.set(inst.alertId, key);
    for (const t of step.transitions) if (t.to === 'ok') this.#byAlertId.delete(t.alertId);
    if (step.persist) this.#dirty.add(key);
    if (forget || disposable(inst, now)) this.#untrack(key, inst);
  }

  #track(key: string, inst: Instance): void {
    this.#memory.charge(INSTANCE_BYTES);
    this.#instances.set(key, inst);
    if (inst.alertId) this.#byAlertId.set(inst.alertId, key);
    if (inst.hostId !== null) addTo(this.#byHost, inst.hostId, key);
    addTo(this.#byRule, inst.ruleId, key);
  }

  #untrack(key: string, inst: Instance): void {
    if (this.#instances.delete(key)) this.#memory.release(INSTANCE_BYTES);
    this.#lastData.delete(key);
    if (inst.alertId) this.#byAlertId.delete(inst.alertId);
    if (inst.hostId !== null) this.#byHost.get(inst.hostId)?.delete(key);
    this.#byRule.get(inst.ruleId)?.delete(key);
    this.#dirty.delete(key);
    if (this.#stored.delete(key)) this.#toDelete.add(storageKey(inst));
  }

  /** Windows of a size no enabled rule on their metric uses any more. */
  #dropUnusedWindows(): void {
    const needed = new Set<string>();
    for (const [path, rules] of this.#seriesRules) for (const r of rules) needed.add(`${r.windowSeconds}|${path}`);
    this.#keepWindows((w) => needed.has(`${w.seconds}|${w.series.metric}`));
  }

  /**
   * Windows whose series stopped (host silent or series gone) free their memory; series names and
   * label sets no host uses any more go.
   */
  #sweepWindows(now: number): void {
    this.#lastSweep = now;
    this.#keepWindows((w) => w.lastTs !== null && now - w.lastTs <= w.spanMs + SERIES_GONE_MS);
    const names = new Map<string, SeriesName>();
    const labelSets = new Map<string, LabelSet>();
    for (const known of this.#hosts.values()) {
      for (const w of known.windows) names.set(w.series.key, w.series);
      for (const name of known.scheduled) names.set(name.key, name);
      if (known.labels) labelSets.set(known.labels.key, known.labels);
    }
    this.#seriesNames = names;
    this.#labelSets = labelSets;
  }

  /** Closes the windows `keep` refuses (their memory goes back to the budget). */
  #keepWindows(keep: (window: HostWindow) => boolean): void {
    for (const known of this.#hosts.values()) {
      const kept = known.windows.filter(keep);
      if (kept.length === known.windows.length) continue;
      for (const w of known.windows) if (!kept.includes(w)) this.#closeWindow(w);
      known.windows = kept;
    }
  }

  async #flush(): Promise<void> {
    const deletes = [...this.#toDelete];
    this.#toDelete.clear();
    const entries: [string, unknown][] = [];
    for (const key of this.#dirty) {
      const inst = this.#instances.get(key);
      if (!inst) continue;
      entries.push([storageKey(inst), inst]);
      this.#stored.add(key);
    }
    this.#dirty.clear();
    for (const hostId of this.#bootDirty) {
      const boot = this.#bootTimes.get(hostId);
      if (boot !== undefined) entries.push([`${BOOT_PREFIX}${hostId}`, boot]);
    }
    this.#bootDirty.clear();
    // Deletes first: a key deleted and written again in one call ends up written.
    const written = new Set(entries.map(([k]) => k));
    const stale = deletes.filter((k) => !written.has(k));
    for (let i = 0; i < stale.length; i += STORAGE_BATCH) await this.#storage.delete(stale.slice(i, i + STORAGE_BATCH));
    for (let i = 0; i < entries.length; i += STORAGE_BATCH) {
      await this.#storage.put(Object.fromEntries(entries.slice(i, i + STORAGE_BATCH)));
    }
  }
}

function noDataCondition(rule: CompiledRule) {
  return rule.condition as Extract<CompiledRule['condition'], { kind: 'no_data' }>;
}

function endStep(inst: Instance, now: number, cause: AlertEndCause): Step {
  const reason = {
    rule_changed: 'its rule changed',
    rule_disabled: 'its rule was disabled',
    rule_removed: 'its rule was removed',
    host_removed: 'its host was removed',
    series_gone: 'its series is no longer reported',
  }[cause];
  return end(inst, now, `${inst.message} (ended: ${reason})`.trimStart(), cause);
}

/** Scope answers (0: not asked yet). */
const IN = 1;
const OUT = 2;

function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

/** In memory: rule, host and series; they cannot clash, as rule and host ids are UUIDs. */
export function instanceKey(ruleId: string, hostId: string | null, series: string): string {
  return `${ruleId}|${hostId ?? ''}|${series}`;
}

/** In storage: the same, with a long series (custom labels, long mount paths) hashed under the 2 KiB key limit. */
export function storageKey(inst: Pick<Instance, 'ruleId' | 'hostId' | 'series'>): string {
  const series = inst.series.length <= 256 ? inst.series : `#${hash64(inst.series)}`;
  return `${INSTANCE_PREFIX}${instanceKey(inst.ruleId, inst.hostId, series)}`;
}
