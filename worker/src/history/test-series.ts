import type { Chunk } from './chunk-codec.ts';

/**
 * Random but reproducible history for the history tests: timestamps at 10 s with 1 s live stretches and
 * holes, and series with gaps, counter resets and bursts. Test support only.
 */

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed. */
export function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Agent-like times from `start` for about `spanMs`: 10 s steps, some 1 s live stretches, some holes. */
export function randomTimestamps(random: () => number, start: number, spanMs: number): number[] {
  const timestamps: number[] = [];
  let ts = start;
  while (ts < start + spanMs) {
    timestamps.push(ts);
    const roll = random();
    if (roll < 0.03) {
      // A live stretch: every second for up to two minutes.
      const seconds = 1 + Math.floor(random() * 120);
      for (let i = 1; i <= seconds; i++) timestamps.push(ts + i * 1000);
      ts += (seconds + 1) * 1000;
      ts = Math.ceil(ts / 10_000) * 10_000;
    } else if (roll < 0.05) {
      ts += 10_000 * (2 + Math.floor(random() * 50)); // the agent was down
    } else {
      ts += 10_000;
    }
  }
  return timestamps;
}

export type SeriesShape = 'noise' | 'walk' | 'counter' | 'constant' | 'bursts' | 'pages';

/** `length` values of one shape, with about `gapShare` of them NaN (gaps), some in runs. */
export function randomValues(random: () => number, length: number, shape: SeriesShape, gapShare = 0.1): Float64Array {
  const values = new Float64Array(length);
  let level = (random() - 0.5) * 200;
  let counter = random() * 1e6;
  for (let i = 0; i < length; i++) {
    level += (random() - 0.5) * 3;
    counter = random() < 0.01 ? random() * 10 : counter + random() * 5000; // resets now and then
    if (shape === 'noise') values[i] = 40 + (random() - 0.5) * 30;
    else if (shape === 'walk') values[i] = level;
    else if (shape === 'constant') values[i] = 7.25;
    else if (shape === 'bursts') values[i] = random() < 0.05 ? 1e8 * random() : random() * 1000;
    else if (shape === 'pages') values[i] = 4096 * Math.round(4e6 + 100 * level);
    else values[i] = counter;
  }
  let i = 0;
  while (i < length) {
    if (random() < gapShare / 3) {
      const run = 1 + Math.floor(random() * 5);
      values.fill(Number.NaN, i, Math.min(length, i + run));
      i += run;
    } else {
      i++;
    }
  }
  return values;
}

const SHAPES: readonly SeriesShape[] = ['noise', 'walk', 'counter', 'constant', 'bursts', 'pages'];
const QUANTA = [0.01, 0.1, 1, 0];

/** A raw-tier chunk of the given series keys, each with a shape and a quantum by its position. */
export function randomRawChunk(random: () => number, start: number, spanMs: number, keys: readonly string[]): Chunk {
  const timestamps = randomTimestamps(random, start, spanMs);
  return {
    timestamps,
    columns: keys.map((name, k) => ({
      name,
      quantum: QUANTA[k % QUANTA.length] as number,
      values: randomValues(random, timestamps.length, SHAPES[k % SHAPES.length] as SeriesShape),
    })),
  };
}

/** Every present point of a raw chunk, as (key, ts, value). */
export function pointsOf(chunks: readonly Chunk[]): { key: string; ts: number; value: number }[] {
  return chunks.flatMap(({ timestamps, columns }) =>
    columns.flatMap(({ name, values }) =>
      timestamps.flatMap((ts, i) => {
        const value = values[i] as number;
        return Number.isNaN(value) ? [] : [{ key: name, ts, value }];
      }),
    ),
  );
}
