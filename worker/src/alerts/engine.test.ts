import type { RuleInput } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { AlertEngine, BOOT_PREFIX, INSTANCE_PREFIX, SERIES_GONE_MS, type SilentHost } from './engine.ts';
import { FLAP_STABLE_MS } from './state-machine.ts';
import { type AlertStorage, memoryStorage } from './storage.ts';
import { at, defaultRules, host, MINUTE, observation, rule, SECOND, T0 } from './testing.ts';
import type { AlertTransition, EngineHost, EngineRule } from './types.ts';

const NONE = new Map<string, SilentHost>();

async function engineWith(rules: EngineRule[], storage: AlertStorage = memoryStorage(), now = T0) {
  const engine = await AlertEngine.open(storage, { now });
  await engine.setRules(rules, now);
  return engine;
}

/** `from→to level` per transition, for compact expectations. */
function brief(transitions: AlertTransition[]): string[] {
  return transitions.map((t) => `${t.from}→${t.to} ${t.level}${t.previousLevel ? ` (was ${t.previousLevel})` : ''}`);
}

function silent(h: EngineHost, lastSeen: number, pushIntervalMs = 30_000): Map<string, SilentHost> {
  return new Map([[h.id, { host: h, lastSeen, pushIntervalMs }]]);
}

function cpuRule(extra: Partial<RuleInput> = {}, levels: Record<string, unknown> = {}): EngineRule {
  return rule({
    name: 'CPU',
    condition: {
      kind: 'threshold',
      metric: { path: 'cpu.total' },
      aggregation: 'last',
      comparison: 'gt',
      warning: { threshold: 90 },
      ...levels,
    },
    ...extra,
  } as RuleInput);
}

/** Counts what reaches storage. */
function countingStorage() {
  const inner = memoryStorage();
  const counts = { puts: 0, deletes: 0 };
  const storage: AlertStorage = {
    list: (o) => inner.list(o),
    put: async (entries) => {
      counts.puts += Object.keys(entries).length;
      await inner.put(entries);
    },
    delete: async (keys) => {
      counts.deletes += keys.length;
      return inner.delete(keys);
    },
  };
  return { storage, counts, map: inner.map };
}

describe('AlertEngine: threshold timing', () => {
  it('holds `for` across batch boundaries: pending on the first batch, firing on the first batch 300 s later', async () => {
    const [cpu] = defaultRules() as [EngineRule];
    const engine = await engineWith([cpu]);
    const h = host(1);
    const seen: string[][] = [];
    let alertIds = new Set<string>();
    // A push every 30 s carrying three 10 s samples at 99 %.
    for (let k = 0; k <= 10; k++) {
      const base = T0 + k * 30 * SECOND;
      const samples = [0, 10, 20].map((s) => ({ ts: base + s * SECOND, values: { cpu: 99 } }));
      const out = await engine.observe(observation(h, { samples }), base + 21 * SECOND);
      seen.push(brief(out));
      alertIds = new Set([...alertIds, ...out.map((t) => t.alertId)]);
    }
    expect(seen[0]).toEqual(['ok→pending critical']);
    expect(seen.slice(1, 10).flat()).toEqual([]); // batch 9 is 270 s after the first: still pending
    expect(seen[10]).toEqual(['pending→firing critical']);
    expect(alertIds.size).toBe(1);
  });

  it('fires a pending alert from the alarm when `for` runs out between batches', async () => {
    const engine = await engineWith([cpuRule({ forSeconds: 120 })]);
    const h = host(1);
    expect(brief(await engine.observe(at(h, T0, { cpu: 95 }), T0))).toEqual(['ok→pending warning']);
    expect(engine.nextWakeAt(T0)).toBe(T0 + 120 * SECOND);
    expect(await engine.tick(T0 + 119 * SECOND, NONE)).toEqual([]);
    const fired = await engine.tick(T0 + 120 * SECOND, NONE);
    expect(brief(fired)).toEqual(['pending→firing warning']);
    expect(fired[0]?.firedAt).toBe(T0 + 120 * SECOND);
    expect(fired[0]?.startedAt).toBe(T0);
  });

  it('cancels a pending alert when the condition clears before `for`', async () => {
    const engine = await engineWith([cpuRule({ forSeconds: 120 })]);
    const h = host(1);
    await engine.observe(at(h, T0, { cpu: 95 }), T0);
    expect(brief(await engine.observe(at(h, T0 + 60 * SECOND, { cpu: 50 }), T0 + 60 * SECOND))).toEqual([
      'ok→pending warning'.replace('ok→pending', 'pending→ok'),
    ]);
    expect(await engine.tick(T0 + 200 * SECOND, NONE)).toEqual([]);
    expect(engine.activeAlerts()).toEqual([]);
  });

  it('keeps firing for `keep_firing_for` after the condition clears, across batches and through the alarm', async () => {
    const engine = await engineWith([cpuRule({ keepFiringForSeconds: 120 })]);
    const h = host(1);
    const step = async (s: number, cpu: number) =>
      brief(await engine.observe(at(h, T0 + s * SECOND, { cpu }), T0 + s * SECOND));
    expect(await step(0, 95)).toEqual(['ok→firing warning']);
    expect(await step(30, 50)).toEqual([]); // cleared at 30 s
    expect(await step(60, 95)).toEqual([]); // back before 120 s: the clock starts over
    expect(await step(90, 50)).toEqual([]); // cleared at 90 s
    expect(await step(180, 50)).toEqual([]);
    expect(await step(210, 50)).toEqual(['firing→ok warning']); // 120 s after 90 s

    // The same through the alarm, with no batch at the deadline.
    expect(await step(300, 95)).toEqual(['ok→firing warning']);
    expect(await step(330, 50)).toEqual([]);
    expect(engine.nextWakeAt(T0 + 330 * SECOND)).toBe(T0 + 450 * SECOND);
    expect(await engine.tick(T0 + 449 * SECOND, NONE)).toEqual([]);
    expect(brief(await engine.tick(T0 + 450 * SECOND, NONE))).toEqual(['firing→ok warning']);
  });
});

describe('AlertEngine: levels and flapping', () => {
  it('escalates and de-escalates while firing, with one alert id and the peak at resolution', async () => {
    const engine = await engineWith([
      cpuRule({}, { warning: { threshold: 90, recovery: 80 }, critical: { threshold: 97, recovery: 90 } }),
    ]);
    const h = host(1);
    const all: AlertTransition[] = [];
    for (const [i, cpu] of [91, 98, 93, 85, 81, 79].entries()) {
      all.push(...(await engine.observe(at(h, T0 + i * 30 * SECOND, { cpu }), T0 + i * 30 * SECOND)));
    }
    expect(brief(all)).toEqual([
      'ok→firing warning',
      'firing→firing critical (was warning)',
      'firing→firing warning (was critical)', // 85 < critical recovery 90
      'firing→ok warning', // 79 < warning recovery 80 (81 held)
    ]);
    expect(new Set(all.map((t) => t.alertId)).size).toBe(1);
    const resolved = all[3] as AlertTransition;
    expect(resolved).toMatchObject({ value: 79, peak: 98, threshold: 90 });
    expect(all[1]?.message).toBe('CPU busy 98 % > 97 on web-1');
  });

  it('flags flapping on the fourth flip in 30 min without hysteresis; hysteresis keeps the same series quiet', async () => {
    const values = [91, 89, 91, 89, 91, 89];
    const run = async (levels: Record<string, unknown>) => {
      const engine = await engineWith([cpuRule({}, levels)]);
      const h = host(1);
      const all: AlertTransition[] = [];
      for (const [i, cpu] of values.entries()) {
        all.push(...(await engine.observe(at(h, T0 + i * MINUTE, { cpu }), T0 + i * MINUTE)));
      }
      return all;
    };
    const plain = await run({ warning: { threshold: 90 } });
    expect(brief(plain)).toEqual([
      'ok→firing warning',
      'firing→ok warning',
      'ok→firing warning',
      'firing→ok warning',
      'ok→firing warning',
      'firing→ok warning',
    ]);
    expect(plain.map((t) => t.flapping)).toEqual([false, false, false, true, true, true]);
    // Each firing is a new alert.
    expect(new Set(plain.map((t) => t.alertId)).size).toBe(3);

    const damped = await run({ warning: { threshold: 90, recovery: 80 } });
    expect(brief(damped)).toEqual(['ok→firing warning']);
    expect(damped[0]?.flapping).toBe(false);
  });

  it('ends flapping after 30 min without a flip, and a firing alert says so once', async () => {
    const engine = await engineWith([cpuRule()]);
    const h = host(1);
    let last: AlertTransition[] = [];
    for (const [i, cpu] of [91, 89, 91, 89, 91].entries()) {
      last = await engine.observe(at(h, T0 + i * MINUTE, { cpu }), T0 + i * MINUTE);
    }
    expect(last[0]).toMatchObject({ to: 'firing', flapping: true });
    const lastFlip = T0 + 4 * MINUTE;
    // Still over the threshold: nothing new while it stays put.
    for (const m of [10, 20, 25]) {
      expect(await engine.observe(at(h, lastFlip + m * MINUTE, { cpu: 95 }), lastFlip + m * MINUTE)).toEqual([]);
    }
    expect(engine.nextWakeAt(lastFlip + 25 * MINUTE)).toBe(lastFlip + FLAP_STABLE_MS);
    const calm = await engine.tick(lastFlip + FLAP_STABLE_MS, NONE);
    expect(brief(calm)).toEqual(['firing→firing warning']);
    expect(calm[0]?.flapping).toBe(false);
    const end = await engine.observe(at(h, lastFlip + 40 * MINUTE, { cpu: 50 }), lastFlip + 40 * MINUTE);
    expect(end[0]).toMatchObject({ to: 'ok', flapping: false });
  });
});

describe('AlertEngine: host down and stale', () => {
  it('fires host down through the alarm after the grace, and resolves when the host reports', async () => {
    const rules = defaultRules();
    const engine = await engineWith(rules);
    const h = host(1);
    await engine.observe(at(h, T0), T0);
    // Grace: 3 × 30 s = 90 s (at least 60 s).
    expect(engine.nextWakeAt(T0)).toBe(T0 + 90 * SECOND);
    expect(await engine.tick(T0 + 89 * SECOND, silent(h, T0))).toEqual([]);
    const down = await engine.tick(T0 + 90 * SECOND, silent(h, T0));
    expect(brief(down)).toEqual(['ok→firing critical']);
    expect(down[0]).toMatchObject({ series: '', value: 90, threshold: 90, ruleId: rules[3]?.id });
    expect(down[0]?.message).toBe('web-1 has sent nothing for 2 min (expected every 30 s)');
    expect(await engine.tick(T0 + 10 * MINUTE, silent(h, T0))).toEqual([]);
    const back = await engine.observe(at(h, T0 + 11 * MINUTE), T0 + 11 * MINUTE);
    expect(brief(back)).toEqual(['firing→ok critical']);
    expect(back[0]?.message).toBe('web-1 is reporting again');
  });

  it('uses at least 60 s of grace, and fires for a host it only knows from the object (after a wake-up)', async () => {
    const engine = await engineWith([rule({ name: 'down', condition: { kind: 'no_data', graceIntervals: 1 } })]);
    const h = host(2);
    expect(await engine.tick(T0 + 59 * SECOND, silent(h, T0, 10_000))).toEqual([]);
    expect(brief(await engine.tick(T0 + 60 * SECOND, silent(h, T0, 10_000)))).toEqual(['ok→firing critical']);
  });

  it('turns open alerts of a silent host stale (not resolved, not firing) and resumes from the condition', async () => {
    const rules = [cpuRule(), defaultRules()[3] as EngineRule];
    const engine = await engineWith(rules);
    const h = host(1);
    const fired = await engine.observe(at(h, T0, { cpu: 95 }), T0);
    const id = fired[0]?.alertId;
    const stale = await engine.tick(T0 + 80 * SECOND, silent(h, T0));
    expect(brief(stale)).toEqual(['firing→stale warning']);
    expect(engine.activeAlerts().map((a) => a.state)).toEqual(['stale']);
    // Host down fires; the stale CPU alert stays stale.
    expect(brief(await engine.tick(T0 + 5 * MINUTE, silent(h, T0)))).toEqual(['ok→firing critical']);
    const back = await engine.observe(at(h, T0 + 6 * MINUTE, { cpu: 96 }), T0 + 6 * MINUTE);
    expect(brief(back).sort()).toEqual(['firing→ok critical', 'stale→firing warning']);
    expect(back.find((t) => t.from === 'stale')?.alertId).toBe(id);

    await engine.tick(T0 + 7 * MINUTE, silent(h, T0 + 6 * MINUTE));
    const recovered = await engine.observe(at(h, T0 + 9 * MINUTE, { cpu: 20 }), T0 + 9 * MINUTE);
    expect(brief(recovered).filter((t) => t.startsWith('stale'))).toEqual(['stale→ok warning']);
  });

  it('a pending alert that went stale starts its `for` again when data comes back', async () => {
    const engine = await engineWith([cpuRule({ forSeconds: 120 })]);
    const h = host(1);
    await engine.observe(at(h, T0, { cpu: 95 }), T0);
    expect(brief(await engine.tick(T0 + 90 * SECOND, silent(h, T0)))).toEqual(['pending→stale warning']);
    // The old deadline passes while stale: nothing fires.
    expect(await engine.tick(T0 + 5 * MINUTE, silent(h, T0))).toEqual([]);
    const back = T0 + 6 * MINUTE;
    expect(brief(await engine.observe(at(h, back, { cpu: 95 }), back))).toEqual(['stale→pending warning']);
    expect(await engine.tick(back + 119 * SECOND, NONE)).toEqual([]);
    expect(brief(await engine.tick(back + 120 * SECOND, NONE))).toEqual(['pending→firing warning']);
  });

  it('ends an alert whose series stopped while the host still reports', async () => {
    const disk = rule({
      name: 'disk',
      condition: { kind: 'threshold', metric: { path: 'disk.used_pct' }, comparison: 'gt', warning: { threshold: 85 } },
    });
    const engine = await engineWith([disk]);
    const h = host(1);
    const fired = await engine.observe(at(h, T0, { disks: { '/': 50, '/data': 90 } }), T0);
    expect(fired[0]?.series).toBe('disk.used_pct{mount="/data"}');
    // /data is unmounted; the host keeps reporting.
    for (let m = 1; m <= 11; m++) await engine.observe(at(h, T0 + m * MINUTE, { disks: { '/': 50 } }), T0 + m * MINUTE);
    const gone = await engine.tick(T0 + SERIES_GONE_MS + SECOND, NONE);
    expect(gone).toHaveLength(1);
    expect(gone[0]).toMatchObject({ to: 'ok', cause: 'series_gone' });
  });
});

describe('AlertEngine: reboot and events', () => {
  it('fires on a changed boot time (not on the first one or jitter) and resolves after resolveAfterSeconds', async () => {
    const engine = await engineWith([
      rule({ name: 'reboot', condition: { kind: 'reboot', resolveAfterSeconds: 300 } }),
    ]);
    const h = host(1);
    const boot = T0 - 86_400_000;
    expect(await engine.observe(at(h, T0, {}, { bootTime: boot }), T0)).toEqual([]);
    expect(await engine.observe(at(h, T0 + MINUTE, {}, { bootTime: boot + 1000 }), T0 + MINUTE)).toEqual([]);
    const rebooted = await engine.observe(at(h, T0 + 2 * MINUTE, {}, { bootTime: T0 + 100 * SECOND }), T0 + 2 * MINUTE);
    expect(brief(rebooted)).toEqual(['ok→firing warning']);
    expect(rebooted[0]?.message).toBe(`web-1 rebooted at ${new Date(T0 + 100 * SECOND).toISOString()}`);
    expect(engine.nextWakeAt(T0 + 2 * MINUTE)).toBe(T0 + 7 * MINUTE);
    expect(await engine.tick(T0 + 7 * MINUTE - 1, NONE)).toEqual([]);
    expect(brief(await engine.tick(T0 + 7 * MINUTE, NONE))).toEqual(['firing→ok warning']);
  });

  it('event mode: one alert per subject, cleared by clearKind or after resolveAfterSeconds', async () => {
    const failed = rule({
      name: 'job failed',
      condition: {
        kind: 'event',
        mode: 'event',
        eventKind: 'job.failed',
        clearKind: 'job.completed',
        resolveAfterSeconds: 3600,
      },
    });
    const engine = await engineWith([failed]);
    const h = host(1);
    const ev = (ts: number, kind: string, id: string) => ({ ts, kind, id, message: 'exit 1' });
    const first = await engine.observe(observation(h, { events: [ev(T0, 'job.failed', 'backup')] }), T0);
    expect(brief(first)).toEqual(['ok→firing warning']);
    expect(first[0]).toMatchObject({ series: 'backup', value: 1, message: 'job.failed backup: exit 1 on web-1' });
    const again = await engine.observe(
      observation(h, { events: [ev(T0 + MINUTE, 'job.failed', 'backup'), ev(T0 + MINUTE, 'job.failed', 'report')] }),
      T0 + MINUTE,
    );
    expect(again.map((t) => t.series)).toEqual(['report']);
    expect(engine.activeAlerts().find((a) => a.series === 'backup')?.value).toBe(2);
    const cleared = await engine.observe(
      observation(h, { events: [ev(T0 + 2 * MINUTE, 'job.completed', 'backup')] }),
      T0 + 2 * MINUTE,
    );
    expect(cleared.map((t) => `${t.series} ${t.to}`)).toEqual(['backup ok']);
    expect(brief(await engine.tick(T0 + MINUTE + 3600 * SECOND, NONE))).toEqual(['firing→ok warning']);
    expect(engine.activeAlerts()).toEqual([]);
  });

  it('event mode with resolveAfterSeconds 0 fires and resolves at once (a one-shot notice)', async () => {
    const engine = await engineWith([
      rule({
        name: 'deploy',
        condition: { kind: 'event', mode: 'event', eventKind: 'deploy', resolveAfterSeconds: 0 },
      }),
    ]);
    const out = await engine.observe(observation(host(1), { events: [{ ts: T0, kind: 'deploy', id: 'v2' }] }), T0);
    expect(brief(out)).toEqual(['ok→firing warning', 'firing→ok warning']);
  });

  it('duration mode: a start without an end within maxSeconds fires at start + maxSeconds; the end resolves it', async () => {
    const { storage, map } = countingStorage();
    const engine = await engineWith(
      [rule({ name: 'slow job', condition: { kind: 'event', mode: 'duration', maxSeconds: 1800 } })],
      storage,
    );
    const h = host(1);
    const start = (ts: number, id: string) => ({ ts, kind: 'job.started', id, name: `nightly ${id}` });
    expect(await engine.observe(observation(h, { events: [start(T0, 'a'), start(T0, 'b')] }), T0 + SECOND)).toEqual([]);
    expect(engine.activeAlerts()).toEqual([]);
    // b ends in time: its timer goes, nothing is ever reported for it.
    await engine.observe(
      observation(h, { events: [{ ts: T0 + 10 * MINUTE, kind: 'job.completed', id: 'b' }] }),
      T0 + 10 * MINUTE,
    );
    expect(engine.nextWakeAt(T0 + 10 * MINUTE)).toBe(T0 + 30 * MINUTE);
    expect(await engine.tick(T0 + 30 * MINUTE - 1, NONE)).toEqual([]);
    const late = await engine.tick(T0 + 30 * MINUTE, NONE);
    expect(brief(late)).toEqual(['ok→firing warning']);
    expect(late[0]).toMatchObject({ series: 'a', value: 1800 });
    expect(late[0]?.message).toBe(
      'nightly a (a) has run for 30 min without job.completed or job.failed (limit 30 min) on web-1',
    );
    const done = await engine.observe(
      observation(h, { events: [{ ts: T0 + 40 * MINUTE, kind: 'job.failed', id: 'a' }] }),
      T0 + 40 * MINUTE,
    );
    expect(brief(done)).toEqual(['firing→ok warning']);
    expect([...map.keys()].filter((k) => k.startsWith(INSTANCE_PREFIX) && k.endsWith('|b'))).toEqual([]);
  });
});

describe('AlertEngine: rules', () => {
  it('resets the instances of a rule whose condition changed, and leaves them alone for other edits', async () => {
    const original = cpuRule();
    const engine = await engineWith([original]);
    const h = host(1);
    const fired = await engine.observe(at(h, T0, { cpu: 95 }), T0);
    const renamed = { ...original, spec: { ...original.spec, name: 'CPU (renamed)', forSeconds: 60 } };
    expect(await engine.setRules([renamed], T0 + SECOND)).toEqual([]);
    const edited = cpuRule({}, { warning: { threshold: 93 } });
    const changed = { ...edited, id: original.id };
    const reset = await engine.setRules([changed], T0 + 2 * SECOND);
    expect(reset).toHaveLength(1);
    expect(reset[0]).toMatchObject({ alertId: fired[0]?.alertId, to: 'ok', cause: 'rule_changed' });
    const refired = await engine.observe(at(h, T0 + MINUTE, { cpu: 95 }), T0 + MINUTE);
    expect(brief(refired)).toEqual(['ok→firing warning']);
    expect(refired[0]?.alertId).not.toBe(fired[0]?.alertId);
    expect(refired[0]?.message).toBe('CPU busy 95 % > 93 on web-1');
  });

  it('resolves the open alerts of a disabled or removed rule and forgets them in storage', async () => {
    const { storage, map } = countingStorage();
    const a = cpuRule();
    const b = rule({
      name: 'mem',
      condition: {
        kind: 'threshold',
        metric: { path: 'memory.used_pct' },
        comparison: 'gt',
        warning: { threshold: 50 },
      },
    });
    const engine = await engineWith([a, b], storage);
    const h = host(1);
    expect(await engine.observe(at(h, T0, { cpu: 95, mem: 60 }), T0)).toHaveLength(2);
    expect([...map.keys()].filter((k) => k.startsWith(INSTANCE_PREFIX))).toHaveLength(2);
    const disabled = await engine.setRules([{ ...a, spec: { ...a.spec, enabled: false } }], T0 + MINUTE);
    expect(disabled.map((t) => [t.ruleId, t.to, t.cause]).sort()).toEqual(
      [
        [a.id, 'ok', 'rule_disabled'],
        [b.id, 'ok', 'rule_removed'],
      ].sort(),
    );
    expect([...map.keys()].filter((k) => k.startsWith(INSTANCE_PREFIX))).toEqual([]);
    expect(await engine.observe(at(h, T0 + 2 * MINUTE, { cpu: 95, mem: 60 }), T0 + 2 * MINUTE)).toEqual([]);
  });

  it('scopes rules by host labels and ends an alert when its host is relabelled out of scope', async () => {
    const scoped = cpuRule({ scope: { type: 'labels', selector: 'env=prod, role=~web|api' }, labels: { team: 'ops' } });
    const engine = await engineWith([scoped]);
    const prod = host(1, { env: 'prod', role: 'web' });
    const staging = host(2, { env: 'staging', role: 'web' });
    const fired = await engine.observe(at(prod, T0, { cpu: 95 }), T0);
    expect(fired[0]?.labels).toEqual({ team: 'ops' });
    expect(await engine.observe(at(staging, T0, { cpu: 95 }), T0)).toEqual([]);
    const moved = await engine.observe(
      at({ ...prod, labels: { env: 'staging', role: 'web' } }, T0 + MINUTE, { cpu: 95 }),
      T0 + MINUTE,
    );
    expect(moved).toHaveLength(1);
    expect(moved[0]).toMatchObject({ to: 'ok', cause: 'rule_changed' });
  });

  it('watches only the series its selector matches, one alert per series, labels and title from the series', async () => {
    const root = rule({
      name: 'root disk',
      condition: {
        kind: 'threshold',
        metric: { path: 'disk.used_pct', match: [{ name: 'mount', op: '=~', value: '/|/var' }] },
        comparison: 'gt',
        warning: { threshold: 85 },
      },
    });
    const engine = await engineWith([root]);
    const out = await engine.observe(at(host(1), T0, { disks: { '/': 90, '/var': 91, '/home': 99 } }), T0);
    expect(out.map((t) => [t.series, t.labels, t.message])).toEqual([
      ['disk.used_pct{mount="/"}', { mount: '/' }, 'Disk used / 90 % > 85 on web-1'],
      ['disk.used_pct{mount="/var"}', { mount: '/var' }, 'Disk used /var 91 % > 85 on web-1'],
    ]);
  });

  it('evaluates rate rules over their window', async () => {
    const growth = rule({
      name: 'disk growth',
      condition: {
        kind: 'rate',
        metric: { path: 'disk.used_pct', match: [{ name: 'mount', op: '=', value: '/' }] },
        windowSeconds: 600,
        per: 'hour',
        comparison: 'gt',
        warning: { threshold: 20 },
      },
    });
    const engine = await engineWith([growth]);
    const h = host(1);
    const out: AlertTransition[] = [];
    // +0.5 % per minute = +30 %/h.
    for (let m = 0; m <= 10; m++) {
      out.push(...(await engine.observe(at(h, T0 + m * MINUTE, { disks: { '/': 40 + m * 0.5 } }), T0 + m * MINUTE)));
    }
    expect(brief(out)).toEqual(['ok→firing warning']);
    expect(out[0]?.value).toBeCloseTo(30, 9);
    expect(out[0]?.message).toBe('Disk used / change over 10 min +30 %/h > 20 on web-1');
  });
});

describe('AlertEngine: storage', () => {
  it('takes Durable Object storage as it is (the type checker proves it)', () => {
    const fits = (storage: DurableObjectStorage): AlertStorage => storage;
    expect(typeof fits).toBe('function');
  });

  it('resumes after eviction: a new engine over the same storage keeps pending timers, firing levels and alert ids', async () => {
    const map = new Map<string, unknown>();
    const rules = [
      cpuRule(
        { forSeconds: 300 },
        { warning: { threshold: 90, recovery: 80 }, critical: { threshold: 97, recovery: 90 } },
      ),
    ];
    const first = await engineWith(rules, memoryStorage(map));
    const a = host(1);
    const b = host(2);
    const pending = await first.observe(at(a, T0, { cpu: 95 }), T0);
    await first.observe(at(b, T0, { cpu: 99 }), T0);
    const fired = await first.tick(T0 + 300 * SECOND, NONE);
    expect(brief(fired)).toEqual(['pending→firing warning', 'pending→firing critical']);

    // Evicted: a fresh engine from storage alone.
    const second = await engineWith(rules, memoryStorage(map), T0 + 400 * SECOND);
    expect(
      second
        .activeAlerts()
        .map((x) => [x.hostId, x.state, x.level])
        .sort(),
    ).toEqual([
      [a.id, 'firing', 'warning'],
      [b.id, 'firing', 'critical'],
    ]);
    // 93 is under critical's threshold but above its recovery: b stays critical only if the level was kept.
    expect(await second.observe(at(b, T0 + 410 * SECOND, { cpu: 93 }), T0 + 410 * SECOND)).toEqual([]);
    const resolved = await second.observe(at(a, T0 + 410 * SECOND, { cpu: 10 }), T0 + 410 * SECOND);
    expect(resolved[0]).toMatchObject({ alertId: pending[0]?.alertId, to: 'ok', startedAt: T0 });

    // A pending timer survives too.
    const third = await engineWith(rules, memoryStorage(map), T0 + 420 * SECOND);
    await third.observe(at(a, T0 + 430 * SECOND, { cpu: 95 }), T0 + 430 * SECOND);
    const fourth = await engineWith(rules, memoryStorage(map), T0 + 500 * SECOND);
    expect(fourth.nextWakeAt(T0 + 500 * SECOND)).toBe(T0 + 730 * SECOND);
    expect(brief(await fourth.tick(T0 + 730 * SECOND, NONE))).toEqual(['pending→firing warning']);
  });

  it('keeps flip history through an eviction, so flapping is still seen', async () => {
    const map = new Map<string, unknown>();
    const rules = [cpuRule()];
    const h = host(1);
    const first = await engineWith(rules, memoryStorage(map));
    // Fired and resolved: the instance is ok, only its record of two flips remains.
    for (const [i, cpu] of [91, 89].entries()) await first.observe(at(h, T0 + i * MINUTE, { cpu }), T0 + i * MINUTE);
    expect(first.activeAlerts()).toEqual([]);
    const second = await engineWith(rules, memoryStorage(map), T0 + 3 * MINUTE);
    const third = await second.observe(at(h, T0 + 4 * MINUTE, { cpu: 91 }), T0 + 4 * MINUTE);
    expect(third[0]).toMatchObject({ to: 'firing', flapping: false });
    const fourth = await second.observe(at(h, T0 + 5 * MINUTE, { cpu: 89 }), T0 + 5 * MINUTE);
    expect(fourth[0]).toMatchObject({ to: 'ok', flapping: true });
  });

  it('writes on transitions only: healthy batches and value or peak changes cost no write', async () => {
    const { storage, counts } = countingStorage();
    const engine = await engineWith([...defaultRules(), cpuRule()], storage);
    const h = host(1);
    for (let i = 0; i < 30; i++) await engine.observe(at(h, T0 + i * 10 * SECOND, { cpu: 30 }), T0 + i * 10 * SECOND);
    expect(counts.puts).toBe(0);
    await engine.observe(at(h, T0 + 300 * SECOND, { cpu: 92 }), T0 + 300 * SECOND);
    const afterFiring = counts.puts;
    expect(afterFiring).toBe(1);
    for (const [i, cpu] of [93, 95, 94, 96].entries()) {
      await engine.observe(at(h, T0 + (310 + i * 10) * SECOND, { cpu }), T0 + (310 + i * 10) * SECOND);
    }
    expect(counts.puts).toBe(afterFiring);
    // The peak kept in memory goes out with the next transition.
    const resolved = await engine.observe(at(h, T0 + 400 * SECOND, { cpu: 10 }), T0 + 400 * SECOND);
    expect(resolved.find((t) => t.to === 'ok')?.peak).toBe(96);
    expect(counts.puts).toBe(afterFiring + 1);
  });

  it('stores boot times, keys long series under the key limit, and acknowledges', async () => {
    const { storage, map } = countingStorage();
    const custom = rule({
      name: 'queue',
      condition: {
        kind: 'threshold',
        metric: { path: 'custom.queue_depth' },
        comparison: 'gt',
        warning: { threshold: 100 },
      },
    });
    const engine = await engineWith([custom, rule({ name: 'reboot', condition: { kind: 'reboot' } })], storage);
    const h = host(1);
    const long = 'q'.repeat(300);
    const out = await engine.observe(
      observation(h, {
        bootTime: T0 - 1000,
        custom: [{ name: 'queue_depth', kind: 'gauge', ts: T0, value: 500, labels: { queue: long } }],
      }),
      T0,
    );
    expect(out).toHaveLength(1);
    expect(map.get(`${BOOT_PREFIX}${h.id}`)).toBe(T0 - 1000);
    const keys = [...map.keys()].filter((k) => k.startsWith(INSTANCE_PREFIX));
    expect(keys).toHaveLength(1);
    expect((keys[0] as string).length).toBeLessThan(200);
    expect(await engine.acknowledge(out[0]?.alertId as string)).toBe(true);
    expect(await engine.acknowledge('00000000-0000-4000-8000-00000000ffff')).toBe(false);
    const reopened = await engineWith([custom], storage);
    expect(reopened.activeAlerts()[0]).toMatchObject({ acknowledged: true, series: out[0]?.series });
  });

  it('removing a host ends its alerts and forgets it', async () => {
    const { storage, map } = countingStorage();
    const engine = await engineWith([cpuRule(), rule({ name: 'reboot', condition: { kind: 'reboot' } })], storage);
    const h = host(1);
    await engine.observe(at(h, T0, { cpu: 95 }, { bootTime: T0 - 1000 }), T0);
    const out = await engine.removeHost(h.id, T0 + SECOND);
    expect(out[0]).toMatchObject({ to: 'ok', cause: 'host_removed' });
    expect([...map.keys()]).toEqual([]);
  });
});

describe('AlertEngine: scheduled kinds', () => {
  it('takes forecast results from the object, lists the series to evaluate, and ignores silent hosts', async () => {
    const rules = defaultRules();
    const forecast = rules[4] as EngineRule;
    const engine = await engineWith(rules);
    const h = host(1);
    await engine.observe(at(h, T0), T0);
    const work = engine.scheduledWork();
    expect(work.map((w) => [w.rule.id, w.targets.map((t) => t.series)])).toEqual([
      [forecast.id, ['disk.used_pct{mount="/"}', 'disk.used_pct{mount="/var"}', 'disk.used_pct{mount="/home"}']],
    ]);
    const soon = {
      level: 'warning' as const,
      value: 7.5,
      threshold: 100,
      higherIsWorse: false,
      detail: 'reaches 100 in about 7.5 h (trend over 6 h)',
    };
    const fired = await engine.applyScheduled(forecast.id, h, { mount: '/' }, soon, T0 + MINUTE);
    expect(brief(fired)).toEqual(['ok→firing warning']);
    expect(fired[0]?.message).toBe('Disk used / reaches 100 in about 7.5 h (trend over 6 h) on web-1');
    const sooner = { ...soon, value: 5 };
    await engine.applyScheduled(forecast.id, h, { mount: '/' }, sooner, T0 + 2 * MINUTE);
    expect(engine.activeAlerts()[0]?.peak).toBe(5); // sooner is worse

    await engine.tick(T0 + 3 * MINUTE, silent(h, T0));
    expect(engine.activeAlerts()[0]?.state).toBe('stale');
    expect(
      await engine.applyScheduled(forecast.id, h, { mount: '/' }, { ...soon, level: null }, T0 + 4 * MINUTE),
    ).toEqual([]);
    await engine.observe(at(h, T0 + 5 * MINUTE), T0 + 5 * MINUTE);
    const cleared = await engine.applyScheduled(
      forecast.id,
      h,
      { mount: '/' },
      { ...soon, level: null, value: 40 },
      T0 + 6 * MINUTE,
    );
    expect(brief(cleared)).toEqual(['stale→ok warning']);
  });
});
