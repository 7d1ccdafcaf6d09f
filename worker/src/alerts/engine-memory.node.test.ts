import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { METRICS } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { AlertEngine } from './engine.ts';
import { ALERT_MEMORY_BUDGET_BYTES } from './memory-budget.ts';
import { memoryStorage } from './storage.ts';
import { defaultRules, host, observation, rule, SECOND, T0 } from './testing.ts';
import type { EngineHost, EngineRule } from './types.ts';

/**
 * What alert evaluation really holds in a tenant object (128 MB for everything), measured in Node:
 * V8 heap plus ArrayBuffer backing stores (which live outside the heap but count against a Worker's
 * memory), each after full collections. Figures are printed and recorded in docs/decisions.md,
 * "Alerts"; the bounds asserted are generous and the ones that matter: kilobytes per host under the
 * default rules, and the budget holding whatever the rules ask for.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function retained(): number {
  gc();
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

const MiB = 1024 * 1024;

/**
 * Pushes every 30 s with three 10 s samples (what an agent sends when nobody watches live), built
 * with `samplePoints` from a realistic sample: CPU, load, memory, three mounts, disk I/O, two
 * interfaces, processes, agent (38 series). One host in twenty has a nearly full /var.
 */
async function feed(engine: AlertEngine, hosts: EngineHost[], batches: number): Promise<number> {
  let transitions = 0;
  for (let b = 0; b < batches; b++) {
    for (const [i, h] of hosts.entries()) {
      const samples = [0, 10, 20].map((s) => {
        const ts = T0 + (b * 30 + s) * SECOND + i;
        const disks = { '/': 40 + (i % 30), '/var': i % 20 === 0 ? 90 : 30, '/home': 10 };
        return { ts, values: { cpu: 10 + ((i * 7 + b * 3 + s) % 60), mem: 30 + (i % 40), disks } };
      });
      transitions += (await engine.observe(observation(h, { samples }), T0 + (b * 30 + 21) * SECOND + i)).length;
    }
  }
  return transitions;
}

const hostsOf = (count: number) =>
  Array.from({ length: count }, (_, i) => host(i + 1, { env: i % 2 ? 'prod' : 'staging', role: 'web' }));

/** 500 threshold rules over every host metric: last/avg/max/p95, windows 1, 5 and 15 min, a third by label. */
function manyRules(count: number): EngineRule[] {
  const paths = METRICS.filter(
    (m) => m.path !== 'temp' && !m.path.startsWith('gpu') && !m.path.startsWith('container'),
  );
  return Array.from({ length: count }, (_, i) => {
    const aggregation = (['last', 'avg', 'max', 'p95'] as const)[i % 4];
    return rule({
      name: `rule ${i}`,
      scope: i % 3 === 0 ? { type: 'labels', selector: 'env=prod, role=~web|api' } : { type: 'all' },
      condition: {
        kind: 'threshold',
        metric: { path: paths[i % paths.length]?.path as string },
        aggregation,
        windowSeconds: aggregation === 'last' ? 0 : [60, 300, 900][i % 3],
        comparison: 'gt',
        warning: { threshold: 1e14 },
      },
    });
  });
}

describe('AlertEngine memory', () => {
  it('1,000 hosts × the 5 default rules, 10 minutes of 10 s samples: a few KiB per host', async () => {
    const hosts = hostsOf(1000);
    const before = retained();
    const engine = await AlertEngine.open(memoryStorage(), { now: T0 });
    const rules = defaultRules();
    await engine.setRules(rules, T0);
    const transitions = await feed(engine, hosts, 20);
    const used = retained() - before;
    const stats = engine.stats();
    console.log(
      `default rules, ${hosts.length} hosts: ${(used / MiB).toFixed(2)} MiB retained, ` +
        `${(used / hosts.length / 1024).toFixed(2)} KiB per host, ` +
        `${(used / hosts.length / rules.length / 1024).toFixed(2)} KiB per host per rule; ` +
        `${stats.windows} windows, ${stats.buckets} buckets, ${(stats.windowBytes / 1024).toFixed(0)} KiB of points, ` +
        `accounted ${(stats.accountedBytes / MiB).toFixed(2)} MiB`,
    );
    // The disk rule fires on one host in twenty; nothing goes unwatched.
    expect(transitions).toBe(hosts.length / 20);
    expect(stats.unwatched).toBe(0);
    // Two 300 s averages and three `last` disk windows per host.
    expect(stats.windows).toBe(5 * hosts.length);
    expect(used).toBeLessThan(5 * MiB);
    // The engine's own account (what its budget is checked against) is not below what it holds.
    expect(stats.accountedBytes).toBeGreaterThanOrEqual(used);
  });

  it('500 rules on 1,000 hosts stay within the budget: the rest is left unwatched and counted', async () => {
    const hosts = hostsOf(1000);
    const before = retained();
    const engine = await AlertEngine.open(memoryStorage(), { now: T0 });
    await engine.setRules(manyRules(500), T0);
    await feed(engine, hosts, 8);
    const used = retained() - before;
    const stats = engine.stats();
    console.log(
      `500 rules, ${hosts.length} hosts: ${(used / MiB).toFixed(2)} MiB retained; ${stats.windows} windows, ` +
        `accounted ${(stats.accountedBytes / MiB).toFixed(2)} of ${(stats.budgetBytes / MiB).toFixed(0)} MiB, ` +
        `${stats.unwatched} rule × series pairs unwatched`,
    );
    expect(stats.budgetBytes).toBe(ALERT_MEMORY_BUDGET_BYTES);
    expect(stats.accountedBytes).toBeLessThanOrEqual(stats.budgetBytes);
    expect(used).toBeLessThanOrEqual(stats.budgetBytes);
    expect(stats.unwatched).toBeGreaterThan(0);
  }, 120_000);
});
