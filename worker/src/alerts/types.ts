import type { AlertLevel, AppEvent, RuleSpec, SeriesPoint } from '@pulsewire/protocol';

/**
 * What the alert engine (`worker/src/alerts/`), the notifier (`worker/src/notify/`) and the tenant
 * object exchange. The engine turns observations into transitions; the object records each
 * transition (alert_events, live `alert` frames) and hands it to the notifier, which plans and
 * delivers messages through the outbox.
 */

/** A rule as the engine holds it: the validated spec plus identity. Loaded from Postgres by the object. */
export interface EngineRule {
  id: string;
  spec: RuleSpec;
  /** Bumped on every edit: state of an older version is reset when its condition changed. */
  updatedAt: number;
}

/** A host as rules scope it. */
export interface EngineHost {
  id: string;
  name: string;
  labels: Record<string, string>;
}

/** What one ingest batch tells the engine about one host. */
export interface HostObservation {
  host: EngineHost;
  /** Host samples flattened to series (`samplePoints`), one entry per sample time, oldest first. */
  samples: { ts: number; points: SeriesPoint[] }[];
  /** Custom metric series (`customPoints`) with their times. */
  custom: { ts: number; points: SeriesPoint[] }[];
  events: AppEvent[];
  /** From host facts when the batch carries them: a change means a reboot. */
  bootTime?: number;
  /** The push interval the host was last told, for no-data grace. */
  pushIntervalMs: number;
}

export type AlertPhase = 'ok' | 'pending' | 'firing' | 'stale';

/**
 * One state change of one alert instance (rule, host, series). `alertId` identifies the instance
 * from pending (or firing) to resolved: it is the row id in `alert_events` and in `/alerts`.
 */
export interface AlertTransition {
  alertId: string;
  ruleId: string;
  hostId: string | null;
  /** Series key (`disk.used_pct{mount="/"}`), event subject for event rules, "" for host-level rules. */
  series: string;
  /** Series labels plus the rule's labels. */
  labels: Record<string, string>;
  from: AlertPhase;
  /** `ok` after firing means resolved. */
  to: AlertPhase;
  level: AlertLevel;
  /** The level before, when an alert changes level while firing (escalation or de-escalation). */
  previousLevel: AlertLevel | null;
  value: number | null;
  /** Worst value since the instance started (highest for gt/gte, lowest for lt/lte). */
  peak: number | null;
  threshold: number | null;
  message: string;
  startedAt: number;
  firedAt: number | null;
  at: number;
  /** True when the engine judges the instance to be flapping (many transitions in a short time). */
  flapping: boolean;
  /**
   * Why an instance ended other than by its condition clearing (only on transitions to `ok`):
   * its rule was edited (condition or scope), disabled or removed, its host removed, or its series no
   * longer reported. The notifier may skip "resolved" messages for these.
   */
  cause?: AlertEndCause;
}

export type AlertEndCause = 'rule_changed' | 'rule_disabled' | 'rule_removed' | 'host_removed' | 'series_gone';

/**
 * What a scheduled evaluation (forecast, anomaly) over history found for one series; the object
 * computes it with `evaluateForecast`/`evaluateAnomaly` from a history query and hands it to
 * `AlertEngine.applyScheduled`, so no raw points of long windows stay in the object.
 */
export interface ScheduledObservation {
  /** The level the condition asks for now; null when it does not hold or there is not enough data. */
  level: AlertLevel | null;
  /** Forecast: hours until the threshold is reached. Anomaly: the recent window's average. */
  value: number | null;
  /** Forecast: the threshold. Anomaly: the bound of the usual range that was crossed. */
  threshold: number | null;
  /** Which way is worse, for the peak: forecast lower (sooner), anomaly away from the baseline. */
  higherIsWorse: boolean;
  /** The message after the series' title, e.g. "reaches 100 in about 7 h (trend over 6 h)". */
  detail: string;
}
