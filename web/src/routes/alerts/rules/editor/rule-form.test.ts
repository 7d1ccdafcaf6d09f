import { type Rule, RuleInput } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { CHANNEL_MAIL, cpuRule, diskRule, HOST_A } from '#lib/alerts/fixtures.ts';
import { matchersOf } from '#lib/alerts/matchers.ts';
import { emptyRuleForm, formToDraft, labelsOf, ruleToForm, validateRuleForm } from './rule-form.ts';

/** A rule as the API would store it: the schema's output for `input`, with the server's fields. */
function stored(input: RuleInput): Rule {
  return { ...cpuRule(), ...RuleInput.parse(input) };
}

/** Every kind (and both event modes), with non-default values, to prove the round trip keeps them. */
const inputs: RuleInput[] = [
  {
    name: 'Root disk',
    description: 'The root filesystem fills up',
    runbook: 'https://wiki.example.com/disk',
    labels: { team: 'ops' },
    scope: { type: 'labels', selector: 'env=prod, role!=db' },
    condition: {
      kind: 'threshold',
      metric: { path: 'disk.used_pct', match: [{ name: 'mount', op: '=', value: '/' }] },
      aggregation: 'max',
      windowSeconds: 90,
      comparison: 'gte',
      warning: { threshold: 80 },
      critical: { threshold: 95, recovery: 90 },
    },
    forSeconds: 120,
    keepFiringForSeconds: 3600,
    notify: { channelIds: [CHANNEL_MAIL], renotifyMinutes: 30, groupWaitSeconds: 45, notifyResolved: false },
  },
  {
    name: 'Memory below',
    condition: {
      kind: 'threshold',
      metric: { path: 'memory.available', match: [] },
      aggregation: 'last',
      windowSeconds: 0,
      comparison: 'lt',
      critical: { threshold: 1e9, recovery: 2e9 },
    },
  },
  {
    name: 'Traffic jump',
    scope: { type: 'hosts', hostIds: [HOST_A] },
    condition: {
      kind: 'rate',
      metric: { path: 'net.rx', match: [{ name: 'iface', op: '=~', value: 'eth.*' }] },
      windowSeconds: 600,
      per: 'second',
      comparison: 'gt',
      warning: { threshold: 1000 },
    },
  },
  { name: 'Down', condition: { kind: 'no_data', graceIntervals: 5, level: 'warning' } },
  {
    name: 'Filling',
    condition: {
      kind: 'forecast',
      metric: { path: 'disk.used_pct', match: [] },
      lookbackHours: 12,
      horizonHours: 48,
      comparison: 'lt',
      threshold: 5,
      level: 'critical',
    },
  },
  {
    name: 'Odd load',
    condition: {
      kind: 'anomaly',
      metric: { path: 'load.5', match: [] },
      baselineHours: 24,
      windowSeconds: 1800,
      deviations: 3.5,
      direction: 'above',
      level: 'critical',
    },
  },
  { name: 'Rebooted', condition: { kind: 'reboot', level: 'critical', resolveAfterSeconds: 600 } },
  {
    name: 'Backup failed',
    condition: {
      kind: 'event',
      mode: 'event',
      eventKind: 'backup.failed',
      clearKind: 'backup.completed',
      match: [{ name: 'job', op: '=', value: 'nightly' }],
      level: 'critical',
      resolveAfterSeconds: 7200,
    },
  },
  {
    name: 'Slow job',
    condition: {
      kind: 'event',
      mode: 'duration',
      startKind: 'etl.started',
      endKinds: ['etl.done', 'etl.failed'],
      maxSeconds: 5400,
      match: [],
      level: 'warning',
    },
  },
];

describe('rule form ↔ RuleInput', () => {
  it.each(inputs.map((input) => [input.name, input] as const))('round-trips %s', (_name, input) => {
    const rule = stored(input);
    const result = validateRuleForm(ruleToForm(rule));
    expect(result.errors).toEqual({});
    expect(result.ok && result.rule).toEqual(RuleInput.parse(input));
  });

  it('starts from a valid rule (the built-in CPU rule, unnamed)', () => {
    const form = emptyRuleForm();
    form.name = 'CPU';
    const result = validateRuleForm(form);
    expect(result.ok).toBe(true);
    expect(result.ok && result.rule.condition).toEqual(cpuRule().condition);
  });

  it('sends only the chosen kind, keeping the other kinds’ fields in the form', () => {
    const form = ruleToForm(cpuRule());
    form.kind = 'no_data';
    expect(formToDraft(form).condition).toEqual({ kind: 'no_data', graceIntervals: 3, level: 'critical' });
    form.kind = 'threshold';
    expect(formToDraft(form).condition).toMatchObject({ kind: 'threshold', warning: { threshold: 90, recovery: 80 } });
  });

  it('leaves out a level that is switched off and a recovery left empty', () => {
    const form = ruleToForm(cpuRule());
    form.warning.on = false;
    form.critical.recovery = '';
    const c = formToDraft(form).condition as Record<string, unknown>;
    expect(c.warning).toBeUndefined();
    expect(c.critical).toEqual({ threshold: 97 });
  });

  it('converts durations with units into seconds and re-notify into minutes', () => {
    const form = emptyRuleForm();
    form.forDuration = { amount: '2', unit: 'h' };
    form.notify.renotify = { amount: '90', unit: 'min' };
    form.notify.groupWait = { amount: '1', unit: 'min' };
    const draft = formToDraft(form);
    expect(draft.forSeconds).toBe(7200);
    expect(draft.notify).toMatchObject({ renotifyMinutes: 90, groupWaitSeconds: 60, channelIds: null });
  });

  it('puts schema errors on the fields, by body path', () => {
    const form = emptyRuleForm();
    form.warning.threshold = '';
    form.critical.recovery = 'lots';
    form.forDuration = { amount: '-1', unit: 's' };
    const result = validateRuleForm(form);
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual({
      name: 'Required',
      'condition.warning.threshold': 'Required',
      'condition.critical.recovery': 'Enter a number',
      forSeconds: 'Must be at least 0',
    });
  });

  it('reports the threshold order and recovery side where the API would', () => {
    const form = ruleToForm(cpuRule());
    form.critical = { on: true, threshold: '85', recovery: '80' };
    expect(validateRuleForm(form).errors).toEqual({
      'condition.critical.threshold': 'The critical threshold must be at or above the warning threshold',
    });
    const below = ruleToForm(cpuRule());
    below.warning.recovery = '95';
    expect(validateRuleForm(below).errors).toHaveProperty(['condition.warning.recovery']);
  });

  it('asks for a window when aggregating, and for at least one level', () => {
    const form = ruleToForm(diskRule());
    form.aggregation = 'avg';
    form.window = { amount: '', unit: 'min' };
    expect(validateRuleForm(form).errors).toHaveProperty(['condition.windowSeconds']);
    const none = ruleToForm(diskRule());
    none.warning.on = false;
    none.critical.on = false;
    expect(validateRuleForm(none).errors).toEqual({ 'condition.critical': 'Set a warning or a critical threshold' });
  });

  it('refuses an unknown metric and a malformed label selector', () => {
    const form = ruleToForm(cpuRule());
    form.metric.path = 'cpu.nope';
    form.scope = { type: 'labels', hostIds: [], selector: 'env' };
    const errors = validateRuleForm(form).errors;
    expect(Object.keys(errors).sort()).toEqual(['condition.metric.path', 'scope.selector']);
  });

  it('puts errors of an event rule on its own fields, not on the whole condition', () => {
    const form = emptyRuleForm();
    form.name = 'Slow job';
    form.kind = 'event';
    form.eventMode = 'duration';
    form.maxDuration = { amount: '', unit: 'h' };
    form.endKinds = ' , ';
    expect(validateRuleForm(form).errors).toEqual({
      'condition.maxSeconds': 'Required',
      'condition.endKinds': 'Add at least 1',
    });
  });

  it('drops matcher and label rows left empty, and keeps filled ones', () => {
    expect(
      matchersOf([
        { name: '', op: '=', value: '' },
        { name: ' mount ', op: '!=', value: '/boot' },
      ]),
    ).toEqual([{ name: 'mount', op: '!=', value: '/boot' }]);
    expect(
      labelsOf([
        { key: 'team', value: 'ops' },
        { key: '', value: '' },
      ]),
    ).toEqual({ team: 'ops' });
  });
});
