import { customPoints, type SeriesPoint, samplePoints, seriesKey } from '@pulsewire/protocol';
import { syntheticCustomMetrics, syntheticSamples } from '@pulsewire/stack/synthetic';
import { describe, expect, it } from 'vitest';
import { type Chunk, decodeChunk, encodeChunk } from './chunk-codec.ts';
import { chunkQuantum } from './precision.ts';
import { HOUR_MS, MINUTE_MS, rerollup, rollup } from './rollup-chunk.ts';
import { seriesFamily } from './series-key.ts';

/**
 * Bytes per host per day in the chunk format, for one day of the synthetic reference host at 10 s: raw
 * chunks per hour and family, 1 min and 1 h rollups per day and family. Chunk bytes only: Postgres adds
 * its row, index and TOAST overhead on top (measured by the storage bench, not here).
 */

const SEED = 1;
const DAY_START = Date.UTC(2026, 2, 4); // a Wednesday
const DAY_MS = 24 * HOUR_MS;

/** family → hour start → series key → (ts → value) */
type Collected = Map<string, Map<number, Map<string, Map<number, number>>>>;

function collect(from: number, to: number, live: boolean): { collected: Collected; values: number; samples: number } {
  const collected: Collected = new Map();
  let values = 0;
  let samples = 0;
  const add = (ts: number, points: SeriesPoint[]) => {
    for (const { metric, labels, value } of points) {
      const key = seriesKey(metric, labels);
      const hours = collected.get(seriesFamily(key)) ?? new Map<number, Map<string, Map<number, number>>>();
      collected.set(seriesFamily(key), hours);
      const hour = ts - (ts % HOUR_MS);
      const series = hours.get(hour) ?? new Map<string, Map<number, number>>();
      hours.set(hour, series);
      const points = series.get(key) ?? new Map<number, number>();
      series.set(key, points);
      points.set(ts, value);
      values++;
    }
  };
  const range = live ? { from, to, live: [{ from, to }] } : { from, to };
  for (const sample of syntheticSamples(SEED, range)) {
    samples++;
    add(sample.ts, samplePoints(sample));
    // Applications flush custom metrics every 10 s, whatever the agent's cadence.
    if (sample.ts % 10_000 === 0) add(sample.ts, syntheticCustomMetrics(SEED, sample.ts).flatMap(customPoints));
  }
  return { collected, values, samples };
}

/** One raw chunk: the union of the series' timestamps, a gap wherever a series has no value. */
function rawChunk(series: Map<string, Map<number, number>>): Chunk {
  const timestamps = [...new Set([...series.values()].flatMap((points) => [...points.keys()]))].sort((a, b) => a - b);
  return {
    timestamps,
    columns: [...series].map(([key, points]) => {
      const values = Float64Array.from(timestamps, (ts) => points.get(ts) ?? Number.NaN);
      return { name: key, quantum: chunkQuantum(key, values), values };
    }),
  };
}

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

describe('storage size of the reference host', () => {
  // A day of samples takes a few seconds to generate and encode: more on a busy machine.
  it('fits a day of 10 s data in well under a megabyte per tier', { timeout: 60_000 }, async () => {
    const { collected, values, samples } = collect(DAY_START, DAY_START + DAY_MS, false);
    const tiers = { raw: 0, minute: 0, hour: 0 };
    const rows = { raw: 0, minute: 0, hour: 0 };
    const rollupValues = { minute: 0, hour: 0 };
    const rawByFamily: Record<string, string> = {};
    let series = 0;
    for (const [family, hours] of collected) {
      const chunks = [...hours.values()].map(rawChunk);
      let familyBytes = 0;
      for (const chunk of chunks) {
        const bytes = await encodeChunk(chunk);
        familyBytes += bytes.length;
        // The stored form is what is read back: check it (cheaply) on the way.
        expect((await decodeChunk(bytes)).timestamps).toEqual(chunk.timestamps);
      }
      tiers.raw += familyBytes;
      rows.raw += chunks.length;
      series += new Set(chunks.flatMap((c) => c.columns.map((col) => col.name))).size;
      rawByFamily[family] = kb(familyBytes);
      const minutes = rollup(chunks, MINUTE_MS);
      const hourly = rerollup([minutes], HOUR_MS);
      tiers.minute += (await encodeChunk(minutes)).length;
      tiers.hour += (await encodeChunk(hourly)).length;
      rows.minute += 1;
      rows.hour += 1;
      // Three stored figures per present bucket (min, avg, max; counts are nearly free).
      const present = (c: Chunk) =>
        c.columns
          .filter((col) => col.name.endsWith('|avg'))
          .reduce((n, col) => n + col.values.filter((v) => !Number.isNaN(v)).length, 0);
      rollupValues.minute += 3 * present(minutes);
      rollupValues.hour += 3 * present(hourly);
    }
    const total = tiers.raw + tiers.minute + tiers.hour;
    console.log(
      [
        `storage, one day of the synthetic host (seed ${SEED}) at 10 s: ${samples} samples, ${series} series, ${values} values`,
        `  raw (per hour × family, ${rows.raw} chunks): ${kb(tiers.raw)} = ${(tiers.raw / values).toFixed(3)} B/value`,
        `  1 min (per day × family, ${rows.minute} chunks): ${kb(tiers.minute)} = ${(tiers.minute / rollupValues.minute).toFixed(3)} B per min/avg/max value`,
        `  1 h (a day of buckets × family, ${rows.hour}; stored in month chunks): ${kb(tiers.hour)} = ${(tiers.hour / rollupValues.hour).toFixed(3)} B per min/avg/max value`,
        `  all tiers: ${kb(total)} per host per day (chunk bytes only, before Postgres overhead)`,
        `  raw by family: ${JSON.stringify(rawByFamily)}`,
      ].join('\n'),
    );
    expect(series).toBeGreaterThanOrEqual(70);
    expect(tiers.raw).toBeLessThan(1_200_000);
    expect(tiers.minute).toBeLessThan(tiers.raw);
    expect(tiers.hour).toBeLessThan(tiers.minute / 10);
  });

  it('stores an hour of live 1 s data', { timeout: 60_000 }, async () => {
    const from = DAY_START + 14 * HOUR_MS;
    const { collected, values } = collect(from, from + HOUR_MS, true);
    let bytes = 0;
    for (const hours of collected.values())
      for (const series of hours.values()) bytes += (await encodeChunk(rawChunk(series))).length;
    console.log(
      `storage, one live hour at 1 s: ${values} values, ${kb(bytes)} = ${(bytes / values).toFixed(3)} B/value`,
    );
    expect(bytes).toBeLessThan(2 * values);
  });
});
