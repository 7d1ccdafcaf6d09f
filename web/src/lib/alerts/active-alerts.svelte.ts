import type { Alert } from '@pulsewire/protocol';
import { type AlertFilters, type AlertPage, alerts as alertsApi } from '#lib/api/alerts.ts';
import { describeError } from '#lib/forms/errors.ts';
import type { AlertMessage, StreamClient, StreamState } from '#lib/live/stream-client.svelte.ts';

/** One `alert` frame's payload (design.md: every transition goes to subscribed dashboards). */
export type AlertFrame = AlertMessage['alert'];

/** Pages of 500 at most; the active view follows cursors up to this many pages. */
const ACTIVE_PAGE_SIZE = 500;
const MAX_ACTIVE_PAGES = 4;
/** Frames naming an alert the list has not seen are merged at once, then the list is fetched again after this. */
export const REFETCH_DELAY_MS = 1_500;

const stateRank: Record<Alert['state'], number> = { firing: 0, stale: 1, pending: 2, resolved: 3 };

/** Firing first, then stale, then pending; critical before warning; the newest first. */
export function compareActive(a: Alert, b: Alert): number {
  return (
    stateRank[a.state] - stateRank[b.state] ||
    (a.level === b.level ? 0 : a.level === 'critical' ? -1 : 1) ||
    Date.parse(b.firedAt ?? b.startedAt) - Date.parse(a.firedAt ?? a.startedAt)
  );
}

/**
 * The active list after one frame: a resolved alert leaves it, any other state is merged into the
 * alert it names (or added from the frame alone). `known` is false when the frame named an alert the
 * list did not hold: the row then lacks what frames do not carry (host name, labels, peak), and the
 * caller should fetch the list again.
 */
export function applyAlertFrame(list: readonly Alert[], frame: AlertFrame): { list: Alert[]; known: boolean } {
  const index = list.findIndex((a) => a.id === frame.id);
  const known = index !== -1;
  if (frame.state === 'resolved') {
    return { list: known ? list.filter((a) => a.id !== frame.id) : [...list], known };
  }
  const before = known ? (list[index] as Alert) : undefined;
  const acknowledgedAt =
    frame.acknowledged === undefined
      ? (before?.acknowledgedAt ?? null)
      : frame.acknowledged
        ? (before?.acknowledgedAt ?? frame.at)
        : null;
  const merged: Alert = {
    id: frame.id,
    ruleId: frame.ruleId,
    ruleName: frame.ruleName,
    hostId: frame.hostId,
    hostName: before?.hostName ?? null,
    series: frame.series ?? before?.series ?? frame.metric,
    labels: before?.labels ?? {},
    level: frame.level,
    state: frame.state,
    value: frame.value,
    peak: peakOf(before, frame.value),
    threshold: frame.threshold,
    message: frame.message,
    startedAt: before?.startedAt ?? frame.at,
    firedAt: before?.firedAt ?? (frame.state === 'firing' ? frame.at : null),
    resolvedAt: null,
    acknowledgedAt,
    acknowledgedBy: acknowledgedAt === null ? null : (before?.acknowledgedBy ?? null),
    silenced: frame.silenced ?? before?.silenced ?? false,
  };
  const next = known ? list.map((a, i) => (i === index ? merged : a)) : [...list, merged];
  return { list: next.sort(compareActive), known };
}

/**
 * The peak moves away from the threshold: up for alerts above it, down for alerts below it (the side
 * the peak is on; the value itself may sit between recovery and threshold while still firing).
 */
function peakOf(before: Alert | undefined, value: number | null): number | null {
  const peak = before?.peak ?? null;
  if (value === null) return peak;
  if (peak === null || !before) return value;
  // Against the threshold the peak was reached under: an escalation moves the threshold past it.
  const below = before.threshold !== null && peak < before.threshold;
  return below ? Math.min(peak, value) : Math.max(peak, value);
}

export interface ActiveAlertsOptions {
  /** Only this host's alerts (the host page); default every host. */
  hostId?: string;
  /** `GET /alerts`; tests pass a fake. */
  fetchPage?: (filters: AlertFilters) => Promise<AlertPage>;
  refetchDelayMs?: number;
}

/**
 * The alerts firing, pending or stale now, kept current by the live stream's `alerts` subscription
 * and fetched again after a reconnect (frames sent while away are lost) and when a frame names an
 * alert the list did not hold. Frames that arrive while a fetch is in flight are applied again on top
 * of its answer, so a slow answer never undoes a newer transition.
 */
export class ActiveAlerts {
  alerts = $state<Alert[]>([]);
  /** False until the first fetch answered. */
  loaded = $state(false);
  error = $state<string | null>(null);

  readonly #client: StreamClient;
  readonly #hostId: string | undefined;
  readonly #fetchPage: (filters: AlertFilters) => Promise<AlertPage>;
  readonly #refetchDelayMs: number;
  #inflight: AlertFrame[] | null = null;
  #generation = 0;
  #refetch: ReturnType<typeof setTimeout> | null = null;
  #lastState: StreamState | null = null;
  #started = false;

  constructor(client: StreamClient, options: ActiveAlertsOptions = {}) {
    this.#client = client;
    this.#hostId = options.hostId;
    this.#fetchPage = options.fetchPage ?? ((filters) => alertsApi.list(filters));
    this.#refetchDelayMs = options.refetchDelayMs ?? REFETCH_DELAY_MS;
  }

  /** Subscribes and fetches; returns the stop function. */
  start(): () => void {
    this.#started = true;
    const off = this.#client.onAlert((msg) => this.apply(msg.alert));
    const unsubscribe = this.#client.subscribe({
      hosts: this.#hostId ? [this.#hostId] : '*',
      streams: ['alerts'],
    });
    void this.load();
    return () => {
      this.#started = false;
      this.#generation++;
      if (this.#refetch) clearTimeout(this.#refetch);
      this.#refetch = null;
      off();
      unsubscribe();
    };
  }

  /** Tell it the stream's state (from an effect): coming back `open` after a drop fetches again. */
  connection(state: StreamState): void {
    const previous = this.#lastState;
    this.#lastState = state;
    if (state === 'open' && previous !== null && previous !== 'open' && this.#started) void this.load();
  }

  /** Merges one frame (frames for other hosts are ignored on a host's list). */
  apply(frame: AlertFrame): void {
    if (this.#hostId && frame.hostId !== this.#hostId) return;
    this.#inflight?.push(frame);
    const { list, known } = applyAlertFrame(this.alerts, frame);
    this.alerts = list;
    if (!known && frame.state !== 'resolved') this.#scheduleRefetch();
  }

  /** Fetches the active list again. */
  async load(): Promise<void> {
    const generation = ++this.#generation;
    const frames: AlertFrame[] = [];
    this.#inflight = frames;
    try {
      const found: Alert[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_ACTIVE_PAGES; page++) {
        const answer = await this.#fetchPage({
          view: 'active',
          limit: ACTIVE_PAGE_SIZE,
          ...(this.#hostId ? { hostId: this.#hostId } : {}),
          ...(cursor ? { cursor } : {}),
        });
        found.push(...answer.alerts);
        if (!answer.nextCursor) break;
        cursor = answer.nextCursor;
      }
      if (generation !== this.#generation) return;
      let list = found.sort(compareActive);
      for (const frame of frames) list = applyAlertFrame(list, frame).list;
      this.alerts = list;
      this.error = null;
      this.loaded = true;
    } catch (error) {
      if (generation === this.#generation) this.error = describeError(error);
    } finally {
      if (this.#inflight === frames) this.#inflight = null;
    }
  }

  /** Marks an alert acknowledged here once the API accepted it (re-notifications stop). */
  acknowledged(id: string, answer: Alert | null, by: string | null): void {
    this.alerts = this.alerts.map((a) =>
      a.id !== id
        ? a
        : (answer ?? { ...a, acknowledgedAt: a.acknowledgedAt ?? new Date().toISOString(), acknowledgedBy: by }),
    );
  }

  #scheduleRefetch(): void {
    if (this.#refetch || !this.#started) return;
    this.#refetch = setTimeout(() => {
      this.#refetch = null;
      if (this.#started) void this.load();
    }, this.#refetchDelayMs);
  }
}
