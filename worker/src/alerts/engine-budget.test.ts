import { samplePoints } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { AlertEngine } from './engine.ts';
import { ALERT_MEMORY_BUDGET_BYTES } from './memory-budget.ts';
import { projectedBytes } from './memory-demand.ts';
import { type AlertStorage, memoryStorage } from './storage.ts';
import { at, defaultRules, host, rule, SECOND, sample, T0 } from './testing.ts';
import type { EngineRule } from './types.ts';

const KiB = 1024;

const cpuOver90: EngineRule = rule({
  name: 'CPU',
  condition: {
    kind: 'threshold',
    metric: { path: 'cpu.total' },
    aggregation: 'avg',
    windowSeconds: 300,
    comparison: 'gt',
    warning: { threshold: 90 },
  },
});

async function engineWith(budget: number, storage: AlertStorage = memoryStorage()) {
  const engine = await AlertEngine.open(storage, { now: T0, memoryBudgetBytes: budget });
  await engine.setRules([cpuOver90], T0);
  return engine;
}

const hosts = Array.from({ length: 40 }, (_, i) => host(i + 1));

describe('AlertEngine memory budget', () => {
  it('is the documented budget unless told otherwise', async () => {
    const engine = await AlertEngine.open(memoryStorage(), { now: T0 });
    expect(engine.stats().budgetBytes).toBe(ALERT_MEMORY_BUDGET_BYTES);
  });

  it('past it opens no window and no alert: the pairs left out are counted, the others alert as usual', async () => {
    const engine = await engineWith(192 * KiB);
    let firing = 0;
    for (const h of hosts) firing += (await engine.observe(at(h, T0, { cpu: 99 }), T0 + SECOND)).length;
    const stats = engine.stats();
    // Each host carries one cpu.total series: it is either alerting or counted as unwatched.
    expect(firing).toBeGreaterThan(0);
    expect(stats.unwatched).toBeGreaterThan(0);
    expect(firing + stats.unwatched).toBe(hosts.length);
    expect(stats.accountedBytes).toBeLessThanOrEqual(stats.budgetBytes);
    expect(engine.activeAlerts()).toHaveLength(firing);
  });

  it('takes memory back from a removed host, so a host left out before is watched on its next batch', async () => {
    const engine = await engineWith(192 * KiB);
    for (const h of hosts) await engine.observe(at(h, T0, { cpu: 99 }), T0 + SECOND);
    const watched = new Set(engine.activeAlerts().map((a) => a.hostId));
    const left = hosts.filter((h) => !watched.has(h.id));
    const [first] = left;
    if (!first) throw new Error('the budget left no host out');
    const before = engine.stats().unwatched;

    for (const h of hosts.filter((h) => watched.has(h.id)).slice(0, 10)) await engine.removeHost(h.id, T0 + SECOND);
    const out = await engine.observe(at(first, T0 + 10 * SECOND, { cpu: 99 }), T0 + 11 * SECOND);
    expect(out.map((t) => `${t.hostId} ${t.to}`)).toEqual([`${first.id} firing`]);
    expect(engine.stats().unwatched).toBe(before - 1);

    // Everything charged comes back when the hosts go.
    for (const h of hosts) await engine.removeHost(h.id, T0 + 20 * SECOND);
    expect(engine.stats()).toMatchObject({ accountedBytes: 0, unwatched: 0, windows: 0, instances: 0 });
  });

  it('keeps the window of an open alert whatever the budget, so it resolves by its value, not as series_gone', async () => {
    const storage = memoryStorage();
    const h = hosts[0] as (typeof hosts)[number];
    const roomy = await engineWith(ALERT_MEMORY_BUDGET_BYTES, storage);
    expect((await roomy.observe(at(h, T0, { cpu: 99 }), T0 + SECOND)).map((t) => t.to)).toEqual(['firing']);

    // Woken up again with no room at all: the firing alert still gets its window and resolves.
    const cramped = await engineWith(1, storage);
    const back = await cramped.observe(at(h, T0 + 30 * SECOND, { cpu: 10 }), T0 + 31 * SECOND);
    expect(back.map((t) => `${t.from}→${t.to}`)).toEqual(['firing→ok']);
    expect(back[0]?.cause).toBeUndefined();
    expect(cramped.stats().unwatched).toBe(0);
  });

  it('projects for the API exactly what the engine charges at the 10 s cadence', async () => {
    const rules = [
      ...defaultRules(),
      rule({
        name: 'Root disk filling',
        scope: { type: 'labels', selector: 'env=prod' },
        condition: {
          kind: 'rate',
          metric: { path: 'disk.used_pct', match: [{ name: 'mount', op: '=', value: '/' }] },
          windowSeconds: 900,
          per: 'hour',
          comparison: 'gt',
          warning: { threshold: 5 },
        },
      }),
      rule({ name: 'Off', enabled: false, condition: { ...cpuOver90.spec.condition } }),
    ];
    const fleet = Array.from({ length: 12 }, (_, i) => host(i + 1, { env: i % 3 ? 'prod' : 'dev' }));
    const engine = await AlertEngine.open(memoryStorage(), { now: T0 });
    await engine.setRules(rules, T0);
    for (const h of fleet) await engine.observe(at(h, T0), T0 + SECOND);
    expect(engine.stats().instances).toBe(0);
    const reporting = fleet.map((h) => ({ host: h, series: samplePoints(sample(T0)) }));
    expect(projectedBytes(rules, reporting)).toBe(engine.memory().accountedBytes);
  });
});
