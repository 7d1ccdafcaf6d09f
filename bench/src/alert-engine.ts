import { METRICS } from '@pulsewire/protocol';
// The engine is plain TypeScript (no Workers API): measured here directly, as the tenant object runs it.
import { AlertEngine } from '../../worker/src/alerts/engine.ts';
import { memoryStorage } from '../../worker/src/alerts/storage.ts';
import { defaultRules, host, observation, rule, SECOND, T0 } from '../../worker/src/alerts/testing.ts';
import type { EngineHost, EngineRule, HostObservation } from '../../worker/src/alerts/types.ts';
import { type Distribution, distribution } from './stats.ts';

export interface EngineCost {
  rules: number;
  hosts: number;
  /** Batches timed (every host, `MEASURED_ROUNDS` times). */
  batches: number;
  /** `AlertEngine.observe` per batch of three samples, in microseconds. */
  perBatchUs: Distribution;
  meanUs: number;
  /** Windows and their ring bytes once warm (memory that scales with rules × hosts). */
  windows: number;
  windowMiB: number;
  /** Alerts open at the end: none, so the figure is evaluation and not transitions. */
  openAlerts: number;
}

/** 15 minutes of pushes before timing: the longest window (900 s) is full, as in steady state. */
const WARMUP_ROUNDS = 30;
const MEASURED_ROUNDS = 10;

/**
 * Rule evaluation cost per ingest batch on a tenant of `hosts` hosts: the built-in five rules, then
 * `rules` rules (the five plus threshold rules over the whole host catalogue, every aggregation,
 * windows of 1, 5 and 15 minutes, a third of them scoped by labels), each on a fresh engine fed the
 * same pushes: every host pushes three 10 s samples every 30 s. Nothing crosses a line.
 */
export async function runEngineCost(options: { hosts: number; rules: number }): Promise<{
  baseline: EngineCost;
  run: EngineCost;
}> {
  const hosts = Array.from({ length: options.hosts }, (_, i) =>
    host(i + 1, { env: i % 2 ? 'prod' : 'staging', role: ['web', 'api', 'db'][i % 3] as string }),
  );
  const baseline = await measure(defaultRules(), hosts);
  const run = await measure(manyRules(options.rules), hosts);
  return { baseline, run };
}

async function measure(rules: EngineRule[], hosts: EngineHost[]): Promise<EngineCost> {
  const engine = await AlertEngine.open(memoryStorage(), { now: T0 });
  await engine.setRules(rules, T0);
  for (let round = 0; round < WARMUP_ROUNDS; round++) {
    for (const [i, h] of hosts.entries()) await engine.observe(batch(h, i, round), receivedAt(i, round));
  }
  const times: number[] = [];
  let total = 0;
  for (let round = WARMUP_ROUNDS; round < WARMUP_ROUNDS + MEASURED_ROUNDS; round++) {
    // Built before timing: the ingest path flattens samples to points before the object sees them.
    const batches = hosts.map((h, i) => batch(h, i, round));
    for (const [i, obs] of batches.entries()) {
      const t0 = performance.now();
      await engine.observe(obs, receivedAt(i, round));
      const us = (performance.now() - t0) * 1000;
      times.push(us);
      total += us;
    }
  }
  const stats = engine.stats();
  return {
    rules: rules.length,
    hosts: hosts.length,
    batches: times.length,
    perBatchUs: distribution(times),
    meanUs: total / times.length,
    windows: stats.windows,
    windowMiB: stats.windowBytes / 2 ** 20,
    openAlerts: engine.activeAlerts().length,
  };
}

/** Three 10 s samples of host `i` in push `round`, with values that stay under every line. */
function batch(h: EngineHost, i: number, round: number): HostObservation {
  return observation(h, {
    samples: [0, 10, 20].map((s) => ({
      ts: T0 + (round * 30 + s) * SECOND + i,
      values: {
        cpu: 10 + ((i * 7 + round * 3 + s) % 60),
        mem: 30 + (i % 40),
        disks: { '/': 40 + (i % 30), '/var': 30, '/home': 10 },
      },
    })),
  });
}

const receivedAt = (i: number, round: number) => T0 + (round * 30 + 21) * SECOND + i;

/** The five built-in rules plus threshold rules over the host catalogue, up to `count`. */
function manyRules(count: number): EngineRule[] {
  const paths = METRICS.filter(
    (m) => m.path !== 'temp' && !m.path.startsWith('gpu') && !m.path.startsWith('container'),
  );
  const rules = defaultRules();
  for (let i = 0; rules.length < count; i++) {
    const aggregation = (['last', 'avg', 'max', 'p95'] as const)[i % 4];
    rules.push(
      rule({
        name: `bench rule ${i}`,
        scope: i % 3 === 0 ? { type: 'labels', selector: 'env=prod, role=~web|api' } : { type: 'all' },
        condition: {
          kind: 'threshold',
          metric: { path: paths[i % paths.length]?.path as string },
          aggregation,
          windowSeconds: aggregation === 'last' ? 0 : [60, 300, 900][i % 3],
          comparison: 'gt',
          // Never reached: the cost measured is evaluation, not transitions.
          warning: { threshold: 1e14 },
        },
      }),
    );
  }
  return rules;
}
