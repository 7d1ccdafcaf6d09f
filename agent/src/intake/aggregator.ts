import {
  type AppEvent,
  type CustomMetric,
  type Labels,
  MAX_EVENTS_PER_BATCH,
  MAX_METRICS_PER_BATCH,
  type MetricKind,
  metricNamePattern,
} from '@pulsewire/protocol';
import type { Logger } from '../log.ts';

export interface Observation {
  name: string;
  kind: MetricKind;
  /** Numbers for gauges, counters and histograms; any value for sets (distinct values are counted). */
  value: number | string;
  labels?: Labels;
  /** StatsD sample rate: a counter sampled at 0.1 counts each increment as 10. */
  sampleRate?: number;
  /** StatsD `+n`/`-n` gauges adjust the last value instead of replacing it. */
  relative?: boolean;
}

interface Series {
  name: string;
  kind: MetricKind;
  labels?: Labels;
  value: number;
  set?: Set<string>;
  hist?: { count: number; sum: number; min: number; max: number; reservoir: number[] };
}

const MAX_RESERVOIR = 1024;
const MAX_SET_VALUES = 10_000;

function seriesKey(kind: MetricKind, name: string, labels: Labels | undefined): string {
  if (!labels) return `${kind}|${name}`;
  const sorted = Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`);
  return `${kind}|${name}|${sorted.join(',')}`;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * Aggregates what applications send (StatsD, HTTP) per flush interval, the way a StatsD server does:
 * gauge = last value, counter = sum (scaled by sample rate), set = count of distinct values,
 * histogram/timer = count, sum, min, max and percentiles over a bounded reservoir sample.
 * Series and events are bounded so that a runaway application cannot grow the agent or its batches.
 */
export class IntakeBuffer {
  readonly #series = new Map<string, Series>();
  readonly #lastGauge = new Map<string, number>();
  #events: AppEvent[] = [];
  readonly #log: Logger;
  readonly #maxSeries: number;
  readonly #maxEvents: number;
  readonly #random: () => number;
  #droppedSeries = 0;
  #droppedEvents = 0;

  constructor(log: Logger, options: { maxSeries?: number; maxEvents?: number; random?: () => number } = {}) {
    this.#log = log;
    this.#maxSeries = options.maxSeries ?? MAX_METRICS_PER_BATCH;
    this.#maxEvents = options.maxEvents ?? MAX_EVENTS_PER_BATCH;
    this.#random = options.random ?? Math.random;
  }

  get size(): number {
    return this.#series.size + this.#events.length;
  }

  /** Returns false (and counts it) when the observation was refused. */
  observe(obs: Observation): boolean {
    if (!metricNamePattern.test(obs.name) || obs.name.length > 200) return false;
    const key = seriesKey(obs.kind, obs.name, obs.labels);
    let series = this.#series.get(key);
    if (!series) {
      if (this.#series.size >= this.#maxSeries) {
        this.#droppedSeries++;
        return false;
      }
      series = { name: obs.name, kind: obs.kind, value: 0, ...(obs.labels ? { labels: obs.labels } : {}) };
      this.#series.set(key, series);
    }
    if (obs.kind === 'set') {
      series.set ??= new Set();
      if (series.set.size < MAX_SET_VALUES) series.set.add(String(obs.value));
      return true;
    }
    const value = typeof obs.value === 'number' ? obs.value : Number(obs.value);
    if (!Number.isFinite(value)) return false;
    // Sums can overflow to Infinity, which JSON writes as null and the server refuses with the whole batch:
    // an observation that would do that is refused here instead.
    if (obs.kind === 'gauge') {
      const next = obs.relative ? (this.#lastGauge.get(key) ?? 0) + value : value;
      if (!Number.isFinite(next)) return false;
      series.value = next;
      this.#lastGauge.set(key, series.value);
    } else if (obs.kind === 'counter') {
      const next = series.value + value / (obs.sampleRate && obs.sampleRate > 0 ? obs.sampleRate : 1);
      if (!Number.isFinite(next)) return false;
      series.value = next;
    } else {
      // A sampled timer stands for 1/rate observations in count and sum; the reservoir keeps real values.
      const weight = obs.sampleRate && obs.sampleRate > 0 ? 1 / obs.sampleRate : 1;
      if (!Number.isFinite((series.hist?.sum ?? 0) + value * weight)) return false;
      series.hist ??= { count: 0, sum: 0, min: value, max: value, reservoir: [] };
      const hist = series.hist;
      hist.count += weight;
      hist.sum += value * weight;
      hist.min = Math.min(hist.min, value);
      hist.max = Math.max(hist.max, value);
      const seen = hist.reservoir.length;
      if (seen < MAX_RESERVOIR) hist.reservoir.push(value);
      else {
        const slot = Math.floor(this.#random() * hist.count);
        if (slot < MAX_RESERVOIR) hist.reservoir[slot] = value;
      }
    }
    return true;
  }

  /** Keeps the newest events when over the bound; the count of dropped ones is logged at flush. */
  event(event: AppEvent): void {
    this.#events.push(event);
    if (this.#events.length > this.#maxEvents) {
      this.#events.shift();
      this.#droppedEvents++;
    }
  }

  /** Everything aggregated since the previous flush, stamped `ts`; the buffer starts empty again. */
  flush(ts: number): { metrics: CustomMetric[]; events: AppEvent[] } {
    const metrics: CustomMetric[] = [];
    for (const series of this.#series.values()) {
      const base = { name: series.name, ts, ...(series.labels ? { labels: series.labels } : {}) };
      if (series.kind === 'histogram') {
        const hist = series.hist;
        if (!hist) continue;
        const sorted = [...hist.reservoir].sort((a, b) => a - b);
        metrics.push({
          ...base,
          kind: 'histogram',
          hist: {
            count: Math.max(1, Math.round(hist.count)),
            sum: hist.sum,
            min: hist.min,
            max: hist.max,
            p50: percentile(sorted, 0.5),
            p90: percentile(sorted, 0.9),
            p99: percentile(sorted, 0.99),
          },
        });
      } else if (series.kind === 'set') {
        metrics.push({ ...base, kind: 'set', value: series.set?.size ?? 0 });
      } else {
        metrics.push({ ...base, kind: series.kind, value: series.value });
      }
    }
    const events = this.#events;
    this.#series.clear();
    this.#events = [];
    if (this.#droppedSeries > 0 || this.#droppedEvents > 0) {
      this.#log.warn('intake over its bounds: dropped data', {
        droppedSeries: this.#droppedSeries,
        droppedEvents: this.#droppedEvents,
      });
      this.#droppedSeries = 0;
      this.#droppedEvents = 0;
    }
    return { metrics, events };
  }
}
