import { CUSTOM_PREFIX, type MetricUnit, metricDefinition } from '@pulsewire/protocol';
import { seriesPath } from './series-key.ts';

/**
 * The precision history keeps per series (issue 12: "round-trip within a stated precision per series kind"):
 * stored values are within half a quantum of what the agent sent; 0 means exact. The quanta sit at or below
 * what the agent itself reports (it rounds percentages and rates to 0.01, temperatures to 0.1) or below what
 * a chart can show; coarser quanta are what makes noisy series cheap to store.
 */
export const QUANTUM_BY_UNIT: Readonly<Record<MetricUnit, number>> = {
  pct: 0.01,
  celsius: 0.1,
  watts: 0.1,
  /** Exact: byte counts are integers (memory and disk in whole pages, which the codec factors out). */
  bytes: 1,
  bytes_per_s: 1,
  per_s: 0.01,
  count: 1,
  ms: 0.01,
  /** Load averages, and 0/1 flags such as container.running. */
  number: 0.01,
};

/**
 * Byte rates are kept relative to their size: within RATE_RELATIVE_PRECISION / 2 of the smallest non-zero
 * rate of the chunk (so of every value in it), by a power-of-two quantum ≥ 1 B/s. A rate is a counter's
 * delta over an interval the agent times to the millisecond (±0.01 % over 10 s), so 1 B/s on 400 kB/s kept
 * five digits of timer noise, ~1 byte per value more.
 */
export const RATE_RELATIVE_PRECISION = 1e-3;

/** The quantum a chunk stores a series with: its unit's, or for byte rates one relative to the values. */
export function chunkQuantum(seriesKey: string, values: Float64Array): number {
  const quantum = quantumOf(seriesKey);
  const path = seriesPath(seriesKey);
  if (path.startsWith(CUSTOM_PREFIX) || metricDefinition(path)?.unit !== 'bytes_per_s') return quantum;
  let smallest = Number.POSITIVE_INFINITY;
  for (const v of values) if (v !== 0 && Math.abs(v) < smallest) smallest = Math.abs(v);
  if (!Number.isFinite(smallest)) return quantum;
  const relative = 2 ** Math.floor(Math.log2(smallest * RATE_RELATIVE_PRECISION));
  return Math.max(quantum, relative);
}

/** Custom application metrics mean whatever the application says: they are stored exactly. */
export const CUSTOM_METRIC_QUANTUM = 0;

/** The quantum a series is stored with; unknown paths are stored exactly rather than guessed at. */
export function quantumOf(seriesKeyOrPath: string): number {
  const path = seriesPath(seriesKeyOrPath);
  if (path.startsWith(CUSTOM_PREFIX)) return CUSTOM_METRIC_QUANTUM;
  const definition = metricDefinition(path);
  return definition ? QUANTUM_BY_UNIT[definition.unit] : 0;
}

/**
 * An average is computed, not a value anyone sent, so even for exactly stored series a rollup keeps its
 * average to this many significant digits of the chunk's largest average (exact doubles would cost ~7 bytes
 * each where these take 1–3). min, max and count stay exact.
 */
export const AVERAGE_SIGNIFICANT_DIGITS = 6;

/**
 * The quantum of a rollup's average column: the series' own, or a relative one for exact series. `step`, when
 * given, is a whole multiple of the series' quantum that every stored value of the chunk is a multiple of (memory
 * and disk sizes move in pages of 4096 bytes): the average is kept to that step, the values' own resolution,
 * rather than to the byte (an average to the byte cost ~1.5 bytes per bucket more than its min or max).
 */
export function averageQuantum(seriesQuantum: number, averages: Iterable<number>, step?: number): number {
  if (seriesQuantum > 0) return step !== undefined && step > seriesQuantum ? step : seriesQuantum;
  let peak = 0;
  for (const v of averages) if (Math.abs(v) > peak) peak = Math.abs(v);
  if (peak === 0 || !Number.isFinite(peak)) return 0;
  return 10 ** (Math.floor(Math.log10(peak)) + 1 - AVERAGE_SIGNIFICANT_DIGITS);
}

/**
 * The step (≥ quantum) that every value is a whole multiple of, for series stored with a whole quantum (bytes,
 * counts): the values' greatest common divisor. 1 as soon as one value is odd; the quantum itself otherwise.
 */
export function valueStep(quantum: number, ...columns: readonly Float64Array[]): number {
  if (!(quantum >= 1 && Number.isInteger(quantum))) return quantum;
  let divisor = 0;
  for (const values of columns) {
    for (const v of values) {
      if (Number.isNaN(v)) continue;
      if (!Number.isSafeInteger(v)) return quantum;
      let x = Math.abs(divisor);
      let y = Math.abs(v);
      while (y !== 0) [x, y] = [y, x % y];
      divisor = x;
      if (divisor <= quantum) return quantum;
    }
  }
  return divisor > quantum && divisor % quantum === 0 ? divisor : quantum;
}
