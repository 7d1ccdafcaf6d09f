import { describe, expect, it } from 'vitest';
import { Planner } from './planner.ts';
import { maintenancePeriod, quietPeriod } from './schedule.ts';
import { memoryStorage } from './storage.ts';
import { channel, context, firing, HOSTS, next, RULE_ID, rule } from './test-fixtures.ts';
import type { NotifyChannel, NotifyContext } from './types.ts';

const T0 = Date.UTC(2025, 5, 2, 12, 0, 0); // Monday 2 June 2025, 12:00 UTC
const S = 1000;
const MIN = 60 * S;
const A = '00000000-0000-4000-8000-0000000000c1';
const B = '00000000-0000-4000-8000-0000000000c2';
const C = '00000000-0000-4000-8000-0000000000c3';

function setup(over: Partial<NotifyContext> = {}) {
  const storage = memoryStorage();
  const base = context(T0, over);
  return { storage, planner: new Planner(storage), at: (now: number) => ({ ...base, now }) };
}

describe('routing', () => {
  it('sends each level to the channels whose minimum it reaches, skipping disabled ones', async () => {
    const channels = [channel(A), channel(B, { minLevel: 'critical' }), channel(C, { enabled: false })];
    const { planner, at } = setup({ channels, rules: new Map([[RULE_ID, rule({ notify: { groupWaitSeconds: 0 } })]]) });
    const warning = await planner.run(at(T0), [firing(T0, { level: 'warning' })]);
    expect(warning.messages.map((m) => m.channelId)).toEqual([A]);
    const critical = await planner.run(at(T0), [firing(T0, { level: 'critical', hostId: HOSTS.web2 })]);
    expect(critical.messages.map((m) => m.channelId).sort()).toEqual([A, B]);
  });

  it('only uses the channels a rule lists', async () => {
    const channels = [channel(A), channel(B)];
    const listed = rule({ notify: { channelIds: [B], groupWaitSeconds: 0 } });
    const { planner, at } = setup({ channels, rules: new Map([[RULE_ID, listed]]) });
    const result = await planner.run(at(T0), [firing(T0)]);
    expect(result.messages.map((m) => m.channelId)).toEqual([B]);
  });
});

describe('grouping', () => {
  it('sends alerts of one rule that fire within the group wait as one message, at its deadline', async () => {
    const { planner, at } = setup();
    const first = await planner.run(at(T0), [
      firing(T0, { hostId: HOSTS.web1 }),
      firing(T0, { hostId: HOSTS.web2 }),
      firing(T0, { hostId: HOSTS.db1, level: 'critical' }),
    ]);
    expect(first.messages).toEqual([]);
    expect(first.nextDueAt).toBe(T0 + 30 * S);
    const later = await planner.run(at(T0 + 10 * S), [firing(T0 + 10 * S, { series: 'cpu.total{core="1"}' })]);
    expect(later.messages).toEqual([]);
    expect(later.nextDueAt).toBe(T0 + 30 * S); // joining does not push the deadline out
    expect((await planner.run(at(T0 + 29 * S))).messages).toEqual([]);
    const due = await planner.run(at(T0 + 30 * S));
    expect(due.messages).toHaveLength(1);
    const [message] = due.messages;
    expect(message?.kind).toBe('firing');
    expect(message?.level).toBe('critical');
    expect(message?.alerts.map((a) => a.hostName)).toEqual(['web-1', 'web-2', 'db-1', 'web-1']);
    expect(message?.summary).toBe('High CPU critical on 3 hosts');
    expect(due.nextDueAt).toBe(T0 + 240 * MIN); // the reminder
  });

  it('keeps the pending group across an eviction', async () => {
    const { storage, at } = setup();
    await new Planner(storage).run(at(T0), [firing(T0), firing(T0, { hostId: HOSTS.web2 })]);
    const revived = new Planner(storage);
    const due = await revived.run(at(T0 + 30 * S));
    expect(due.messages).toHaveLength(1);
    expect(due.messages[0]?.alerts).toHaveLength(2);
  });

  it('reports an alert that resolved during the wait inside the grouped message, and nothing after', async () => {
    const { planner, at } = setup();
    const t = firing(T0);
    await planner.run(at(T0), [t]);
    await planner.run(at(T0 + 5 * S), [next(t, T0 + 5 * S, { to: 'ok', peak: 97 })]);
    const due = await planner.run(at(T0 + 30 * S));
    expect(due.messages).toHaveLength(1);
    expect(due.messages[0]?.alerts[0]?.state).toBe('resolved');
    expect(due.nextDueAt).toBeNull();
  });
});

describe('bounds', () => {
  it('caps a storm to one message of bounded size that counts the rest', async () => {
    const { planner, at } = setup();
    const storm = Array.from({ length: 120 }, (_, i) => firing(T0, { series: `disk.used_pct{mount="/m${i}"}` }));
    await planner.run(at(T0), storm);
    const due = await planner.run(at(T0 + 30 * S));
    expect(due.messages).toHaveLength(1);
    expect(due.messages[0]?.alerts).toHaveLength(50);
    expect(due.messages[0]?.summary).toBe('High CPU warning on 50 series of web-1 (and 70 more)');
  });

  it('keeps stored values small when runbooks and labels are large', async () => {
    const big = rule({ runbook: 'r'.repeat(4000) });
    const { storage, planner, at } = setup({ rules: new Map([[RULE_ID, big]]) });
    const labels = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`label_${i}`, 'v'.repeat(200)]));
    await planner.run(
      at(T0),
      Array.from({ length: 20 }, (_, i) => firing(T0, { series: `s${i}`, labels })),
    );
    const group = JSON.stringify(storage.map.get(`notify:group:${RULE_ID}`));
    expect(group.length).toBeLessThan(64 * 1024);
    const due = await planner.run(at(T0 + 30 * S));
    expect(JSON.stringify(due.messages[0]).length).toBeLessThan(64 * 1024);
    expect(due.messages[0]?.summary).toMatch(/\(and \d+ more\)$/);
  });

  it('forgets alerts of a deleted rule instead of waking up for them forever', async () => {
    const r = rule({ notify: { renotifyMinutes: 60, groupWaitSeconds: 0 } });
    const { planner, at } = setup({ rules: new Map([[RULE_ID, r]]) });
    await planner.run(at(T0), [firing(T0)]);
    const later = await planner.run({ ...at(T0 + 60 * MIN), rules: new Map() });
    expect(later.messages).toEqual([]);
    expect(later.nextDueAt).toBeNull();
  });
});

describe('reminders', () => {
  it('re-notifies every renotifyMinutes while firing, and stops on acknowledgement', async () => {
    const r = rule({ notify: { renotifyMinutes: 60, groupWaitSeconds: 0 } });
    const { planner, at } = setup({ rules: new Map([[RULE_ID, r]]) });
    const t = firing(T0);
    expect((await planner.run(at(T0), [t])).messages.map((m) => m.kind)).toEqual(['firing']);
    expect((await planner.run(at(T0 + 59 * MIN))).messages).toEqual([]);
    const reminder = await planner.run(at(T0 + 60 * MIN));
    expect(reminder.messages.map((m) => m.kind)).toEqual(['renotify']);
    expect(reminder.messages[0]?.summary).toMatch(/^Still firing: High CPU/);
    expect(reminder.nextDueAt).toBe(T0 + 120 * MIN);
    await planner.acknowledge([t.alertId]);
    expect(planner.nextDueAt()).toBeNull();
    expect((await planner.run(at(T0 + 120 * MIN))).messages).toEqual([]);
  });

  it('sends no reminders while the host is stale', async () => {
    const r = rule({ notify: { renotifyMinutes: 60, groupWaitSeconds: 0 } });
    const { planner, at } = setup({ rules: new Map([[RULE_ID, r]]) });
    const t = firing(T0);
    await planner.run(at(T0), [t]);
    await planner.run(at(T0 + MIN), [next(t, T0 + MIN, { to: 'stale' })]);
    expect((await planner.run(at(T0 + 60 * MIN))).messages).toEqual([]);
  });
});

describe('escalation and resolution', () => {
  it('sends an escalation at once when warning becomes critical, also to critical-only channels', async () => {
    const channels = [channel(A), channel(B, { minLevel: 'critical' })];
    const { planner, at } = setup({ channels });
    const t = firing(T0);
    await planner.run(at(T0), [t]);
    await planner.run(at(T0 + 30 * S));
    const escalated = await planner.run(at(T0 + 2 * MIN), [
      next(t, T0 + 2 * MIN, { level: 'critical', previousLevel: 'warning', value: 98 }),
    ]);
    expect(escalated.messages.map((m) => [m.channelId, m.kind, m.level])).toEqual([
      [A, 'escalated', 'critical'],
      [B, 'escalated', 'critical'],
    ]);
    expect(escalated.messages[0]?.summary).toBe('High CPU escalated to critical on web-1 cpu.total');
  });

  it('folds an escalation during the group wait into the grouped message', async () => {
    const { planner, at } = setup();
    const t = firing(T0);
    await planner.run(at(T0), [t]);
    const during = await planner.run(at(T0 + 5 * S), [
      next(t, T0 + 5 * S, { level: 'critical', previousLevel: 'warning' }),
    ]);
    expect(during.messages).toEqual([]);
    const due = await planner.run(at(T0 + 30 * S));
    expect(due.messages.map((m) => [m.kind, m.level])).toEqual([['firing', 'critical']]);
  });

  it('sends the resolution at once, with duration and peak, where the alert went', async () => {
    const channels = [channel(A), channel(B, { minLevel: 'critical' })];
    const { planner, at } = setup({ channels });
    const t = firing(T0, { level: 'critical' });
    await planner.run(at(T0), [t]);
    await planner.run(at(T0 + 30 * S));
    const resolvedAt = T0 + 12 * MIN;
    const resolved = await planner.run(at(resolvedAt), [
      next(t, resolvedAt, { to: 'ok', level: 'warning', value: 40, peak: 99.2 }),
    ]);
    expect(resolved.messages.map((m) => [m.channelId, m.kind])).toEqual([
      [A, 'resolved'],
      [B, 'resolved'],
    ]);
    const [alert] = resolved.messages[0]?.alerts ?? [];
    expect(alert).toMatchObject({ state: 'resolved', durationSeconds: 720, peak: 99.2 });
    expect(alert?.resolvedAt).toBe(new Date(resolvedAt).toISOString());
    expect(resolved.messages[0]?.summary).toBe('Resolved: High CPU on web-1 cpu.total after 12 min (peak 99.2)');
    expect(resolved.nextDueAt).toBeNull(); // no reminder for a resolved alert
  });

  it('sends no resolution when the rule says not to, or when nobody was told it fired', async () => {
    const quietRule = rule({ notify: { notifyResolved: false, groupWaitSeconds: 0 } });
    const { planner, at } = setup({ rules: new Map([[RULE_ID, quietRule]]) });
    const t = firing(T0);
    await planner.run(at(T0), [t]);
    expect((await planner.run(at(T0 + MIN), [next(t, T0 + MIN, { to: 'ok' })])).messages).toEqual([]);
    const pending = firing(T0, { to: 'pending', firedAt: null });
    expect((await planner.run(at(T0 + MIN), [next(pending, T0 + MIN, { to: 'ok' })])).messages).toEqual([]);
  });
});

describe('flapping', () => {
  it('sends one flapping notice, stays quiet while flapping, and speaks again once stable', async () => {
    const { planner, at } = setup({ rules: new Map([[RULE_ID, rule({ notify: { groupWaitSeconds: 0 } })]]) });
    const kinds: string[][] = [];
    let now = T0;
    let t = firing(now);
    kinds.push((await planner.run(at(now), [t])).messages.map((m) => m.kind));
    for (let i = 0; i < 6; i++) {
      now += MIN;
      // Each resolution ends the instance; the next firing is a new instance of the same series.
      t = i % 2 === 0 ? next(t, now, { to: 'ok', flapping: true }) : firing(now, { flapping: true });
      kinds.push((await planner.run(at(now), [t])).messages.map((m) => m.kind));
    }
    now += 30 * MIN;
    const stable = firing(now);
    kinds.push((await planner.run(at(now), [stable])).messages.map((m) => m.kind));
    expect(kinds).toEqual([['firing'], ['flapping'], [], [], [], [], [], ['firing']]);
    expect(planner.nextDueAt()).toBe(now + 240 * MIN);
  });
});

describe('hourly budget', () => {
  it('sends up to the budget, then counts the rest into one digest at the end of the hour', async () => {
    const budgeted = [channel(A, { hourlyBudget: 2 })];
    const { planner, at } = setup({
      channels: budgeted,
      rules: new Map([[RULE_ID, rule({ notify: { groupWaitSeconds: 0 } })]]),
    });
    const sent: string[] = [];
    const logged: string[] = [];
    for (let i = 0; i < 5; i++) {
      const result = await planner.run(at(T0 + i * MIN), [firing(T0 + i * MIN, { series: `cpu.core${i}` })]);
      sent.push(...result.messages.map((m) => m.kind));
      logged.push(...result.log.map((r) => `${r.status}: ${r.reason}`));
    }
    expect(sent).toEqual(['firing', 'firing']);
    expect(logged).toHaveLength(3);
    expect(logged[0]).toBe('suppressed: over the hourly budget; in the digest at 2025-06-02T13:00:00.000Z');
    expect(planner.nextDueAt()).toBe(Date.UTC(2025, 5, 2, 13));
    const digest = await planner.run(at(Date.UTC(2025, 5, 2, 13)));
    const digestKinds = digest.messages.map((m) => [m.kind, m.digestTotal, m.alerts.length]);
    expect(digestKinds).toContainEqual(['digest', 3, 3]);
    // The new hour has a fresh budget.
    const after = await planner.run(at(Date.UTC(2025, 5, 2, 13, 1)), [firing(Date.UTC(2025, 5, 2, 13, 1))]);
    expect(after.messages.map((m) => m.kind)).toEqual(['firing']);
  });
});

describe('silences and maintenance windows', () => {
  it('suppresses matching alerts with the reason for the log, and notifies when the silence ends', async () => {
    const silence = {
      id: 'silence-1',
      matchers: [{ name: 'host_name', op: '=' as const, value: 'web-1' }],
      startsAt: T0 - MIN,
      endsAt: T0 + 60 * MIN,
    };
    const { planner, at } = setup({
      silences: [silence],
      rules: new Map([[RULE_ID, rule({ notify: { groupWaitSeconds: 0 } })]]),
    });
    const result = await planner.run(at(T0), [firing(T0, { hostId: HOSTS.web1 }), firing(T0, { hostId: HOSTS.web2 })]);
    expect(result.messages).toHaveLength(1);
    expect(result.messages[0]?.alerts.map((a) => a.hostName)).toEqual(['web-2']);
    expect(result.log).toEqual([
      expect.objectContaining({ status: 'suppressed', kind: 'firing', reason: 'silenced by silence silence-1' }),
    ]);
    expect(result.nextDueAt).toBe(T0 + 60 * MIN);
    const ended = await planner.run(at(T0 + 60 * MIN));
    expect(ended.messages.map((m) => [m.kind, m.alerts[0]?.hostName])).toEqual([['firing', 'web-1']]);
  });

  it('matches on rule, level, series and labels too', async () => {
    const silenceOf = (name: string, value: string) => ({
      id: name,
      matchers: [{ name, op: '=~' as const, value }],
      startsAt: T0 - MIN,
      endsAt: T0 + MIN,
    });
    for (const [name, value, matches] of [
      ['rule', RULE_ID, true],
      ['rule_name', 'High.*', true],
      ['level', 'critical', false],
      ['series', 'cpu\\..*', true],
      ['env', 'prod', true],
      ['env', 'staging', false],
    ] as const) {
      const { planner, at } = setup({
        silences: [silenceOf(name, value)],
        rules: new Map([[RULE_ID, rule({ notify: { groupWaitSeconds: 0 } })]]),
      });
      const result = await planner.run(at(T0), [firing(T0)]);
      expect([name, value, result.messages.length]).toEqual([name, value, matches ? 0 : 1]);
    }
  });

  it('honours a recurring window in its own time zone across daylight saving time', () => {
    const window = {
      id: 'w1',
      name: 'Sunday patching',
      timeZone: 'Europe/Paris',
      days: ['sun' as const],
      start: '02:00',
      durationMinutes: 120,
      matchers: [],
      enabled: true,
    };
    // Summer (CEST, UTC+2): 02:00–04:00 local is 00:00–02:00 UTC.
    expect(maintenancePeriod(window, Date.UTC(2025, 5, 1, 0, 30))).toEqual({
      start: Date.UTC(2025, 5, 1, 0),
      end: Date.UTC(2025, 5, 1, 2),
    });
    expect(maintenancePeriod(window, Date.UTC(2025, 5, 1, 2, 0))).toBeNull();
    // Winter (CET, UTC+1): 01:00–03:00 UTC; 00:30 UTC is before it.
    expect(maintenancePeriod(window, Date.UTC(2025, 0, 5, 0, 30))).toBeNull();
    expect(maintenancePeriod(window, Date.UTC(2025, 0, 5, 2, 59))).not.toBeNull();
    // The spring-forward night: 02:00 does not exist, the window opens at 03:00 CEST = 01:00 UTC.
    expect(maintenancePeriod(window, Date.UTC(2025, 2, 30, 0, 59))).toBeNull();
    expect(maintenancePeriod(window, Date.UTC(2025, 2, 30, 1, 0))?.start).toBe(Date.UTC(2025, 2, 30, 1));
    // Not on Mondays.
    expect(maintenancePeriod(window, Date.UTC(2025, 5, 2, 0, 30))).toBeNull();
    // A window that runs past midnight is found from the next day.
    const overnight = { ...window, start: '23:00', durationMinutes: 180 };
    expect(maintenancePeriod(overnight, Date.UTC(2025, 5, 1, 23, 30))).not.toBeNull(); // Mon 01:30 CEST
  });

  it('suppresses alerts during an open window, with its name in the log', async () => {
    const window = {
      id: 'w1',
      name: 'Sunday patching',
      timeZone: 'Europe/Paris',
      days: ['sun' as const],
      start: '02:00',
      durationMinutes: 120,
      matchers: [{ name: 'env', op: '=' as const, value: 'prod' }],
      enabled: true,
    };
    const sunday = Date.UTC(2025, 5, 1, 0, 30);
    const { planner, at } = setup({
      maintenanceWindows: [window],
      rules: new Map([[RULE_ID, rule({ notify: { groupWaitSeconds: 0 } })]]),
    });
    const result = await planner.run(at(sunday), [firing(sunday)]);
    expect(result.messages).toEqual([]);
    expect(result.log[0]?.reason).toBe('maintenance window "Sunday patching"');
    expect(result.nextDueAt).toBe(Date.UTC(2025, 5, 1, 2));
  });
});

describe('quiet hours', () => {
  const quiet: NotifyChannel['quietHours'] = {
    timeZone: 'America/New_York',
    start: '22:00',
    end: '07:00',
    days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
  };
  // 23:00 EDT on Monday 2 June = 03:00 UTC Tuesday; quiet ends 07:00 EDT = 11:00 UTC.
  const night = Date.UTC(2025, 5, 3, 3, 0);
  const morning = Date.UTC(2025, 5, 3, 11, 0);

  it('finds the overnight period in the channel time zone', () => {
    expect(quietPeriod(quiet as NonNullable<typeof quiet>, night)).toEqual({
      start: Date.UTC(2025, 5, 3, 2),
      end: morning,
    });
    expect(quietPeriod(quiet as NonNullable<typeof quiet>, morning)).toBeNull();
  });

  it('lets critical through, holds the rest, and sends them as one digest when quiet hours end', async () => {
    const { planner, at } = setup({
      channels: [channel(A, { quietHours: quiet })],
      rules: new Map([[RULE_ID, rule({ notify: { groupWaitSeconds: 0, renotifyMinutes: 0 } })]]),
    });
    const result = await planner.run(at(night), [
      firing(night, { level: 'warning', hostId: HOSTS.web1 }),
      firing(night, { level: 'critical', hostId: HOSTS.db1, ruleId: RULE_ID, series: 'cpu.steal' }),
    ]);
    // One rule, one batch: the grouped message is critical, so it passes as a whole.
    expect(result.messages.map((m) => m.level)).toEqual(['critical']);
    const warningOnly = await planner.run(at(night + MIN), [firing(night + MIN, { hostId: HOSTS.web2 })]);
    expect(warningOnly.messages).toEqual([]);
    expect(warningOnly.log[0]?.reason).toBe('held for quiet hours; in the digest at 2025-06-03T11:00:00.000Z');
    expect(warningOnly.nextDueAt).toBe(morning);
    const digest = await planner.run(at(morning));
    expect(digest.messages.map((m) => [m.kind, m.digestTotal, m.alerts[0]?.hostName])).toEqual([
      ['digest', 1, 'web-2'],
    ]);
  });
});

describe('storage', () => {
  it('writes nothing when nothing changes', async () => {
    const { storage, planner, at } = setup();
    await planner.run(at(T0), [firing(T0)]);
    const writes = storage.writes;
    expect(writes).toBeGreaterThan(0);
    await planner.run(at(T0 + S));
    await planner.run(at(T0 + 2 * S), [firing(T0, { to: 'pending', from: 'ok', firedAt: null })]);
    expect(storage.writes).toBe(writes);
  });
});
