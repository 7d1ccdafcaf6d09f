/**
 * The codec's output per host-day for the synthetic reference host, without a database: raw hourly chunks
 * per family, the day's 1-minute chunk per family, its 1-hour chunk. `node bench/src/codec-bytes.ts [days]`.
 * A quick check of a codec change before the storage bench (which adds Postgres' own overhead).
 */
import { syntheticHourPoints } from '@pulsewire/stack/history-seed';
import { type Chunk, decodeChunk, encodeChunk } from '../../worker/src/history/chunk-codec.ts';
import { chunkOf } from '../../worker/src/history/compaction.ts';
import { rerollup, rollup } from '../../worker/src/history/rollup-chunk.ts';

const HOUR = 3_600_000;
const days = Number(process.argv[2] ?? 1);
const start = Date.UTC(2026, 10, 2);
const raw = new Map<string, number>();
const minute = new Map<string, number>();
const hourTier = new Map<string, number>();
let values = 0;
let encodeMs = 0;
let decodeMs = 0;
const add = (m: Map<string, number>, k: string, n: number) => m.set(k, (m.get(k) ?? 0) + n);
const encode = async (chunk: Chunk) => {
  const t = performance.now();
  const bytes = await encodeChunk(chunk);
  encodeMs += performance.now() - t;
  const t2 = performance.now();
  await decodeChunk(bytes);
  decodeMs += performance.now() - t2;
  return bytes.length;
};
const series = new Set<string>();
for (let d = 0; d < days; d++) {
  const byFamily = new Map<string, Chunk[]>();
  for (let h = 0; h < 24; h++) {
    const hour = start + d * 86_400_000 + h * HOUR;
    const { points, values: n } = syntheticHourPoints(1, hour);
    values += n;
    for (const [family, byTs] of points) {
      const chunk = chunkOf(byTs);
      for (const c of chunk.columns) series.add(c.name);
      add(raw, family, await encode(chunk));
      byFamily.set(family, [...(byFamily.get(family) ?? []), chunk]);
    }
  }
  for (const [family, chunks] of byFamily) {
    const m = rollup(chunks, 60_000);
    add(minute, family, await encode(m));
    add(hourTier, family, await encode(rerollup([m], HOUR)));
  }
}
const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0) / days;
const kb = (n: number) => (n / 1000).toFixed(1);
console.log(`series ${series.size}, values/day ${values / days}`);
for (const f of [...raw.keys()].sort((a, b) => (raw.get(b) ?? 0) - (raw.get(a) ?? 0))) {
  console.log(
    `  ${f.padEnd(10)} raw ${kb((raw.get(f) ?? 0) / days).padStart(6)}  1m ${kb((minute.get(f) ?? 0) / days).padStart(6)}  1h ${kb((hourTier.get(f) ?? 0) / days)}`,
  );
}
const total = sum(raw) + sum(minute) + sum(hourTier);
console.log(
  `raw ${kb(sum(raw))} kB, 1m ${kb(sum(minute))} kB, 1h(day) ${kb(sum(hourTier))} kB, total ${kb(total)} kB = ${(total / (values / days)).toFixed(3)} B/value; encode ${encodeMs.toFixed(0)} ms decode ${decodeMs.toFixed(0)} ms`,
);
