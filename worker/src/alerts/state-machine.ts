import type { AlertLevel } from '@pulsewire/protocol';
import type { AlertEndCause, AlertPhase, AlertTransition } from './types.ts';

/**
 * The life of one alert instance (rule, host, series): ok → pending → firing(level) → ok, and
 * stale while its host is silent. Pure functions over a JSON-safe record; the engine stores the
 * record on every reported transition and keeps the rest (value, peak, the keep-firing clock) in
 * memory until then.
 */

/** Flapping: this many firing/resolved flips within FLAP_WINDOW_MS… */
export const FLAP_MIN_FLIPS = 4;
export const FLAP_WINDOW_MS = 30 * 60_000;
/** …and it stays flapping until no flip for this long. */
export const FLAP_STABLE_MS = 30 * 60_000;
const MAX_FLIPS_KEPT = 8;

export interface Instance {
  ruleId: string;
  hostId: string | null;
  /** Kept for messages about a host the engine has not heard from since it woke up. */
  hostName: string | null;
  series: string;
  labels: Record<string, string>;
  /** Fingerprint of the rule condition this state belongs to: another one resets it. */
  fingerprint: string;
  /** From pending (or firing) to resolved; '' while ok. */
  alertId: string;
  phase: AlertPhase;
  /** While stale: the phase it resumes from when data comes back. */
  resume: 'pending' | 'firing' | null;
  level: AlertLevel;
  value: number | null;
  /** Worst value since the instance started; in memory between transitions. */
  peak: number | null;
  threshold: number | null;
  higherIsWorse: boolean;
  message: string;
  startedAt: number;
  /** When the current pending period began (`for` counts from it). */
  pendingSince: number;
  firedAt: number | null;
  /** Firing, but the condition cleared at this time: `keep_firing_for` counts from it. */
  clearSince: number | null;
  /** Reboot and event alerts resolve by themselves at this time. */
  resolveAt: number | null;
  /** Duration-mode event: a subject started and fires at `due` unless it ends first (phase ok). */
  due: number | null;
  acknowledged: boolean;
  /** Times of firing and resolved transitions within FLAP_WINDOW_MS. */
  flips: number[];
  flapping: boolean;
}

/** What a condition says about an instance now. */
export interface Verdict {
  level: AlertLevel | null;
  value: number | null;
  threshold: number | null;
  higherIsWorse: boolean;
  message: string;
}

export interface Timing {
  forMs: number;
  keepFiringForMs: number;
}

/** Transitions to report, and whether the stored record must be rewritten. */
export interface Step {
  transitions: AlertTransition[];
  persist: boolean;
}

export type InstanceIdentity = Pick<Instance, 'ruleId' | 'hostId' | 'hostName' | 'series' | 'labels' | 'fingerprint'>;

export function newInstance(identity: InstanceIdentity): Instance {
  return {
    ...identity,
    alertId: '',
    phase: 'ok',
    resume: null,
    level: 'warning',
    value: null,
    peak: null,
    threshold: null,
    higherIsWorse: true,
    message: '',
    startedAt: 0,
    pendingSince: 0,
    firedAt: null,
    clearSince: null,
    resolveAt: null,
    due: null,
    acknowledged: false,
    flips: [],
    flapping: false,
  };
}

const NOTHING: Step = { transitions: [], persist: false };

function report(
  inst: Instance,
  from: AlertPhase,
  now: number,
  previousLevel: AlertLevel | null = null,
  cause?: AlertEndCause,
): AlertTransition {
  const t: AlertTransition = {
    alertId: inst.alertId,
    ruleId: inst.ruleId,
    hostId: inst.hostId,
    series: inst.series,
    labels: inst.labels,
    from,
    to: inst.phase,
    level: inst.level,
    previousLevel,
    value: inst.value,
    peak: inst.peak,
    threshold: inst.threshold,
    message: inst.message,
    startedAt: inst.startedAt,
    firedAt: inst.firedAt,
    at: now,
    flapping: inst.flapping,
  };
  if (cause) t.cause = cause;
  return t;
}

function flip(inst: Instance, now: number): void {
  inst.flips = [...inst.flips.filter((t) => t > now - FLAP_WINDOW_MS), now].slice(-MAX_FLIPS_KEPT);
  if (inst.flips.length >= FLAP_MIN_FLIPS) inst.flapping = true;
}

function take(inst: Instance, verdict: Verdict): void {
  if (verdict.value !== null) inst.value = verdict.value;
  inst.message = verdict.message;
  inst.higherIsWorse = verdict.higherIsWorse;
  if (verdict.level !== null) {
    inst.level = verdict.level;
    inst.threshold = verdict.threshold;
  }
  if (inst.phase !== 'ok' && verdict.value !== null) {
    const worse = inst.peak === null || (inst.higherIsWorse ? verdict.value > inst.peak : verdict.value < inst.peak);
    if (worse) inst.peak = verdict.value;
  }
}

function start(inst: Instance, verdict: Verdict, now: number, newId: () => string): void {
  inst.alertId = newId();
  inst.startedAt = now;
  inst.pendingSince = now;
  inst.firedAt = null;
  inst.clearSince = null;
  inst.resolveAt = null;
  inst.resume = null;
  inst.acknowledged = false;
  inst.peak = verdict.value;
}

function fire(inst: Instance, from: AlertPhase, now: number): AlertTransition {
  inst.phase = 'firing';
  inst.firedAt = now;
  inst.clearSince = null;
  flip(inst, now);
  return report(inst, from, now);
}

/** To ok, reported; the record keeps only its flip history (and then goes). */
function close(inst: Instance, now: number, cause?: AlertEndCause): AlertTransition {
  const from = inst.phase;
  const wasFiring = from === 'firing' || (from === 'stale' && inst.resume === 'firing');
  inst.phase = 'ok';
  if (wasFiring) flip(inst, now);
  const t = report(inst, from, now, null, cause);
  inst.alertId = '';
  inst.resume = null;
  inst.clearSince = null;
  inst.resolveAt = null;
  return t;
}

/** A flapping instance calms down after FLAP_STABLE_MS without a flip; a firing one says so. */
function settle(inst: Instance, now: number): AlertTransition[] {
  if (!inst.flapping) return [];
  const last = inst.flips[inst.flips.length - 1] ?? 0;
  if (now - last < FLAP_STABLE_MS) return [];
  inst.flapping = false;
  return inst.phase === 'firing' ? [report(inst, 'firing', now)] : [];
}

/** Feeds what the condition says now. */
export function applyVerdict(inst: Instance, verdict: Verdict, timing: Timing, now: number, newId: () => string): Step {
  const transitions = settle(inst, now);
  switch (inst.phase) {
    case 'ok':
      take(inst, verdict);
      if (verdict.level === null) break;
      start(inst, verdict, now, newId);
      if (timing.forMs <= 0) transitions.push(fire(inst, 'ok', now));
      else {
        inst.phase = 'pending';
        transitions.push(report(inst, 'ok', now));
      }
      break;
    case 'pending':
      if (verdict.level === null) {
        take(inst, verdict);
        transitions.push(close(inst, now));
        break;
      }
      take(inst, verdict);
      if (now - inst.pendingSince >= timing.forMs) transitions.push(fire(inst, 'pending', now));
      break;
    case 'firing': {
      const before = inst.level;
      take(inst, verdict);
      if (verdict.level === null) {
        inst.clearSince ??= now;
        if (now - inst.clearSince >= timing.keepFiringForMs) transitions.push(close(inst, now));
        break;
      }
      inst.clearSince = null;
      if (verdict.level !== before) transitions.push(report(inst, 'firing', now, before));
      break;
    }
    case 'stale': {
      // Data is back: resume from what the condition says now, not from before the silence.
      const before = inst.level;
      take(inst, verdict);
      if (verdict.level === null) transitions.push(close(inst, now));
      else if (inst.resume === 'firing') {
        inst.phase = 'firing';
        inst.resume = null;
        transitions.push(report(inst, 'stale', now, verdict.level === before ? null : before));
      } else {
        inst.phase = 'pending';
        inst.resume = null;
        inst.pendingSince = now;
        transitions.push(report(inst, 'stale', now));
      }
      break;
    }
  }
  return { transitions, persist: transitions.length > 0 };
}

/**
 * Time passes without news: `for` elapsed (the condition held at its last evaluation, or the
 * instance would have left pending), `keep_firing_for` elapsed, a self-resolving alert's time is up,
 * flapping calmed down.
 */
export function expire(inst: Instance, timing: Timing, now: number): Step {
  const transitions = settle(inst, now);
  if (inst.phase === 'pending' && now - inst.pendingSince >= timing.forMs) {
    transitions.push(fire(inst, 'pending', now));
  } else if (inst.phase === 'firing') {
    const kept = inst.clearSince !== null && now - inst.clearSince >= timing.keepFiringForMs;
    const timedOut = inst.resolveAt !== null && now >= inst.resolveAt;
    if (kept || timedOut) transitions.push(close(inst, now));
  }
  return { transitions, persist: transitions.length > 0 };
}

/** The host went silent: an open metric alert is neither still firing nor resolved. */
export function markStale(inst: Instance, now: number): Step {
  if (inst.phase !== 'pending' && inst.phase !== 'firing') return NOTHING;
  const from = inst.phase;
  inst.resume = from;
  inst.phase = 'stale';
  inst.clearSince = null;
  return { transitions: [report(inst, from, now)], persist: true };
}

/** Fires at once (reboot, event) or, already firing, pushes the resolve time back. */
export function fireNow(
  inst: Instance,
  verdict: Verdict,
  resolveAt: number | null,
  now: number,
  newId: () => string,
): Step {
  const transitions = settle(inst, now);
  if (inst.phase === 'firing') {
    take(inst, verdict);
    inst.resolveAt = resolveAt;
    return { transitions, persist: true };
  }
  if (inst.phase !== 'ok') transitions.push(close(inst, now));
  take(inst, verdict);
  start(inst, verdict, now, newId);
  inst.due = null;
  transitions.push(fire(inst, 'ok', now));
  inst.resolveAt = resolveAt;
  return { transitions, persist: true };
}

/** Ends an open instance for a reason other than its condition (or by an explicit clear event). */
export function end(inst: Instance, now: number, message: string, cause?: AlertEndCause): Step {
  if (inst.phase === 'ok') return NOTHING;
  inst.message = message;
  return { transitions: [close(inst, now, cause)], persist: true };
}

/** When `expire` would next change something, or null. */
export function deadline(inst: Instance, timing: Timing): number | null {
  const candidates: number[] = [];
  if (inst.phase === 'pending') candidates.push(inst.pendingSince + timing.forMs);
  if (inst.phase === 'firing') {
    if (inst.clearSince !== null) candidates.push(inst.clearSince + timing.keepFiringForMs);
    if (inst.resolveAt !== null) candidates.push(inst.resolveAt);
    if (inst.flapping) candidates.push((inst.flips[inst.flips.length - 1] ?? 0) + FLAP_STABLE_MS);
  }
  if (inst.phase === 'ok' && inst.due !== null) candidates.push(inst.due);
  return candidates.length === 0 ? null : Math.min(...candidates);
}

/** An ok record with nothing left to remember (no timer, no recent flips) can go. */
export function disposable(inst: Instance, now: number): boolean {
  if (inst.phase !== 'ok' || inst.due !== null) return false;
  const last = inst.flips[inst.flips.length - 1];
  if (last === undefined) return true;
  return now - last >= (inst.flapping ? FLAP_STABLE_MS : FLAP_WINDOW_MS);
}
