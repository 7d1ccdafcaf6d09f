import { METRICS } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { AlertEngine } from './engine.ts';
import { memoryStorage } from './storage.ts';
import { defaultRules, host, observation, rule, SECOND, T0 } from './testing.ts';
import type { EngineRule } from './types.ts';

/**
 * What the engine costs a tenant object (128 MB for everything), in workerd: windows and points for
 * 1,000 hosts under the default rules, and the time to evaluate 500 rules on one batch. Figures are
 * printed (and recorded in docs/decisions.md, "Alerts"); only the structural bounds are asserted,
 * never timings. The heap itself is measured in Node: engine-memory.node.test.ts.
 */
describe('AlertEngine footprint', () => {
  it('1,000 hosts × the 5 default rules, 10 s samples for 10 minutes: bounded windows, few kilobytes per host', async () => {
    const storage = memoryStorage();
    const engine = await AlertEngine.open(storage, { now: T0 });
    const rules = defaultRules();
    await engine.setRules(rules, T0);
    const hosts = Array.from({ length: 1000 }, (_, i) => host(i + 1, { env: i % 2 ? 'prod' : 'staging' }));
    let transitions = 0;
    // A push every 30 s with three 10 s samples: 20 batches per host.
    for (let b = 0; b < 20; b++) {
      for (const [i, h] of hosts.entries()) {
        const samples = [0, 10, 20].map((s) => {
          const ts = T0 + (b * 30 + s) * SECOND + i;
          // One host in twenty has a nearly full /var (the disk rule fires there).
          const disks = { '/': 40 + (i % 30), '/var': i % 20 === 0 ? 90 : 30, '/home': 10 };
          return { ts, values: { cpu: 10 + ((i * 7 + b * 3 + s) % 60), mem: 30 + (i % 40), disks } };
        });
        transitions += (await engine.observe(observation(h, { samples }), T0 + (b * 30 + 21) * SECOND + i)).length;
      }
    }
    const stats = engine.stats();
    // Two 300 s averages (cpu, memory) and three `last` disk windows per host.
    expect(stats.windows).toBe(5 * hosts.length);
    // At 10 s a 300 s window holds at most 31 buckets (one point each, 16 bytes); a `last` window one.
    expect(stats.buckets).toBeLessThanOrEqual(hosts.length * (2 * 31 + 3));
    expect(stats.windowBytes).toBeLessThanOrEqual(hosts.length * (2 * 32 + 3) * 16);
    expect(stats.instances).toBe(hosts.length / 20);
    expect(transitions).toBe(hosts.length / 20);

    // The engine's own account (what its budget is checked against): above what it really holds,
    // which engine-memory.node.test.ts measures in Node (docs/decisions.md, "Alerts").
    const perHost = stats.accountedBytes / hosts.length;
    console.log(
      [
        `hosts ${hosts.length}, rules ${rules.length}, windows ${stats.windows}, buckets ${stats.buckets}`,
        `window points ${(stats.windowBytes / 1024).toFixed(0)} KiB, instances ${stats.instances} (${stats.instanceBytes} B JSON)`,
        `accounted ${(stats.accountedBytes / 1024 / 1024).toFixed(1)} MiB of ${(stats.budgetBytes / 1024 / 1024).toFixed(0)}: ${(perHost / 1024).toFixed(2)} KiB per host, ${(perHost / rules.length / 1024).toFixed(2)} KiB per host per rule`,
        `storage: ${storage.map.size} keys, ${[...storage.map.values()].reduce((n: number, v) => n + JSON.stringify(v).length, 0)} B`,
      ].join('\n'),
    );
    expect(stats.unwatched).toBe(0);
    expect(perHost).toBeLessThan(16 * 1024);
  });

  it('evaluates 500 rules on one host batch (cost printed, not asserted)', async () => {
    const paths = METRICS.filter(
      (m) => m.path !== 'temp' && !m.path.startsWith('gpu') && !m.path.startsWith('container'),
    );
    const rules: EngineRule[] = [];
    for (let i = 0; i < 500; i++) {
      const metric = paths[i % paths.length]?.path as string;
      const aggregation = (['last', 'avg', 'max', 'p95'] as const)[i % 4];
      rules.push(
        rule({
          name: `rule ${i}`,
          scope: i % 3 === 0 ? { type: 'labels', selector: 'env=prod, role=~web|api' } : { type: 'all' },
          condition: {
            kind: 'threshold',
            metric: { path: metric },
            aggregation,
            windowSeconds: aggregation === 'last' ? 0 : [60, 300, 900][i % 3],
            comparison: 'gt',
            // High enough never to fire: the cost measured is evaluation, not transitions.
            warning: { threshold: 1e14 },
          },
        }),
      );
    }
    const engine = await AlertEngine.open(memoryStorage(), { now: T0 });
    await engine.setRules(rules, T0);
    const h = host(1, { env: 'prod', role: 'web' });
    const batch = (b: number) =>
      observation(h, {
        samples: [0, 10, 20].map((s) => ({ ts: T0 + (b * 30 + s) * SECOND, values: { cpu: 20 + (b % 10) } })),
      });
    for (let b = 0; b < 20; b++) await engine.observe(batch(b), T0 + b * 30 * SECOND); // warm windows and caches
    const runs = 200;
    const started = performance.now();
    for (let b = 20; b < 20 + runs; b++) await engine.observe(batch(b), T0 + b * 30 * SECOND);
    const perBatch = (performance.now() - started) / runs;
    const points = batch(0).samples.reduce((n, s) => n + s.points.length, 0);
    console.log(
      `500 rules, one batch of 3 samples (${points} points): ${perBatch.toFixed(3)} ms per batch, windows ${engine.stats().windows}`,
    );
    expect(engine.activeAlerts()).toEqual([]);
  });
});
