/**
 * The closed days of a week's chart without a database: inflating, decoding and bucketing 7 days of the
 * chart's three families (cpu, memory, net) at 15 minutes, read from the 1-minute tier's day chunks or from
 * the 15-minute tier's, alternating. `node bench/src/week-chart-decode.ts [runs]`. CPU time of this process.
 */
import { syntheticHourPoints } from '@pulsewire/stack/history-seed';
import { bucketize } from '../../worker/src/history/bucketize.ts';
import { type Chunk, decodeChunk, encodeChunk } from '../../worker/src/history/chunk-codec.ts';
import { chunkOf } from '../../worker/src/history/compaction.ts';
import { parseRollupColumnName, QUARTER_HOUR_MS, rerollup, rollup } from '../../worker/src/history/rollup-chunk.ts';
import { distribution } from './stats.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DAYS = 7;
const runs = Number(process.argv[2] ?? 30);
const start = Date.UTC(2026, 10, 2);
const FAMILIES = ['cpu', 'memory', 'net'];
const SERIES = ['cpu.total', 'memory.used_pct', 'net.rx'];
const tiers = { '1m': [] as Uint8Array[], '15m': [] as Uint8Array[] };
for (let d = 0; d < DAYS; d++) {
  const byFamily = new Map<string, Chunk[]>();
  for (let h = 0; h < 24; h++) {
    const { points } = syntheticHourPoints(1, start + d * DAY + h * HOUR);
    for (const family of FAMILIES) {
      const byTs = points.get(family);
      if (byTs) byFamily.set(family, [...(byFamily.get(family) ?? []), chunkOf(byTs)]);
    }
  }
  for (const chunks of byFamily.values()) {
    const minutes = rollup(chunks, 60_000);
    tiers['1m'].push(await encodeChunk(minutes));
    tiers['15m'].push(await encodeChunk(rerollup([minutes], QUARTER_HOUR_MS)));
  }
}
const matches = (name: string) => {
  const key = parseRollupColumnName(name)?.key ?? name;
  return SERIES.some((s) => key === s || key.startsWith(`${s}{`));
};
const chart = async (payloads: Uint8Array[]) => {
  const cpu = process.cpuUsage();
  const rollups = await Promise.all(payloads.map((p) => decodeChunk(p, { columns: matches })));
  bucketize({ rollup: rollups }, { from: start, to: start + DAYS * DAY, stepMs: QUARTER_HOUR_MS });
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 1000;
};
const kB = (list: Uint8Array[]) => (list.reduce((n, p) => n + p.length, 0) / 1000).toFixed(1);
const times = { '1m': [] as number[], '15m': [] as number[] };
for (let i = 0; i < runs + 3; i++) {
  for (const tier of ['1m', '15m'] as const) {
    const ms = await chart(tiers[tier]);
    if (i >= 3) times[tier].push(ms);
  }
}
for (const tier of ['1m', '15m'] as const) {
  const d = distribution(times[tier]);
  console.log(
    `${tier}: ${tiers[tier].length} chunks, ${kB(tiers[tier])} kB; CPU p50 ${d.p50.toFixed(2)} ms, p95 ${d.p95.toFixed(2)} ms`,
  );
}
