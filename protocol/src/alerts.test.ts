import { describe, expect, it } from 'vitest';
import { matchesLabels, parseLabelSelector, RuleInput, RulePatch } from './alerts.ts';

/** The `params.code` and path of every issue, as the API answers them. */
function issues(result: { success: boolean; error?: { issues: { path: PropertyKey[]; params?: unknown }[] } }) {
  expect(result.success).toBe(false);
  return (result.error?.issues ?? []).map((i) => ({
    code: (i.params as { code?: string } | undefined)?.code,
    path: i.path.join('.'),
  }));
}

describe('parseLabelSelector', () => {
  it('parses Prometheus matchers, comma-separated, tolerant of spaces and quotes', () => {
    expect(parseLabelSelector('')).toEqual([]);
    expect(parseLabelSelector('  ')).toEqual([]);
    expect(parseLabelSelector('env=prod, role!=db ,region=~eu-.*,  tier !~ "cache|queue"')).toEqual([
      { name: 'env', op: '=', value: 'prod' },
      { name: 'role', op: '!=', value: 'db' },
      { name: 'region', op: '=~', value: 'eu-.*' },
      { name: 'tier', op: '!~', value: 'cache|queue' },
    ]);
    expect(parseLabelSelector('team=')).toEqual([{ name: 'team', op: '=', value: '' }]);
    expect(parseLabelSelector('k8s.io/zone=a')).toBeNull(); // '/' is not a label-name character
    expect(parseLabelSelector('app.kubernetes:io-name=web')).toEqual([
      { name: 'app.kubernetes:io-name', op: '=', value: 'web' },
    ]);
  });

  it('refuses malformed selectors and bad regular expressions', () => {
    for (const bad of ['env', 'env=prod,', '=prod', '1env=prod', 'env==prod,role', 'region=~eu-(', 'a=b,,c=d']) {
      expect(parseLabelSelector(bad), bad).toBeNull();
    }
    // Values cannot hold a comma, even quoted: the selector splits on every comma.
    expect(parseLabelSelector('name="a,b"')).toBeNull();
  });
});

describe('matchesLabels', () => {
  const labels = { env: 'prod', region: 'eu-west-1', role: 'web' };

  it('applies every matcher; regexes are anchored; an absent label reads as ""', () => {
    const check = (selector: string) => matchesLabels(parseLabelSelector(selector) ?? [], labels);
    expect(check('')).toBe(true);
    expect(check('env=prod, role=web')).toBe(true);
    expect(check('env=prod, role=db')).toBe(false);
    expect(check('env!=staging')).toBe(true);
    expect(check('region=~eu-.*')).toBe(true);
    expect(check('region=~eu')).toBe(false); // anchored: the whole value must match
    expect(check('region=~west')).toBe(false);
    expect(check('region!~us-.*')).toBe(true);
    expect(check('role=~web|api')).toBe(true);
    expect(check('team=')).toBe(true); // absent
    expect(check('team!=ops')).toBe(true);
    expect(check('team=~.+')).toBe(false);
  });
});

const threshold = (levels: Record<string, unknown>, comparison = 'gt') => ({
  name: 'r',
  condition: { kind: 'threshold', metric: { path: 'cpu.total' }, comparison, ...levels },
});

describe('rule validation (checkThresholds through RuleInput)', () => {
  it('accepts ordered thresholds with recoveries on the right side, both ways', () => {
    expect(
      RuleInput.safeParse(
        threshold({ warning: { threshold: 90, recovery: 80 }, critical: { threshold: 97, recovery: 90 } }),
      ).success,
    ).toBe(true);
    expect(
      RuleInput.safeParse(threshold({ warning: { threshold: 20, recovery: 25 }, critical: { threshold: 5 } }, 'lt'))
        .success,
    ).toBe(true);
    // Equal thresholds and a recovery equal to its threshold are allowed.
    expect(
      RuleInput.safeParse(threshold({ warning: { threshold: 90, recovery: 90 }, critical: { threshold: 90 } }, 'gte'))
        .success,
    ).toBe(true);
  });

  it('answers threshold_order when critical is on the wrong side of warning', () => {
    expect(issues(RuleInput.safeParse(threshold({ warning: { threshold: 90 }, critical: { threshold: 80 } })))).toEqual(
      [{ code: 'threshold_order', path: 'condition.critical.threshold' }],
    );
    expect(
      issues(RuleInput.safeParse(threshold({ warning: { threshold: 20 }, critical: { threshold: 30 } }, 'lte'))),
    ).toEqual([{ code: 'threshold_order', path: 'condition.critical.threshold' }]);
  });

  it('answers recovery_side for a recovery past its threshold', () => {
    expect(
      issues(
        RuleInput.safeParse(
          threshold({ warning: { threshold: 90, recovery: 95 }, critical: { threshold: 97, recovery: 99 } }),
        ),
      ),
    ).toEqual([
      { code: 'recovery_side', path: 'condition.warning.recovery' },
      { code: 'recovery_side', path: 'condition.critical.recovery' },
    ]);
    expect(issues(RuleInput.safeParse(threshold({ warning: { threshold: 20, recovery: 15 } }, 'lt')))).toEqual([
      { code: 'recovery_side', path: 'condition.warning.recovery' },
    ]);
  });

  it('needs a level, and a window for aggregations other than last; rate rules are checked too', () => {
    expect(issues(RuleInput.safeParse(threshold({})))).toEqual([
      { code: 'validation_failed', path: 'condition.critical' },
    ]);
    expect(
      issues(RuleInput.safeParse(threshold({ aggregation: 'avg', warning: { threshold: 90 } }))).map((i) => i.path),
    ).toEqual(['condition.windowSeconds']);
    const rate = {
      name: 'r',
      condition: {
        kind: 'rate',
        metric: { path: 'disk.used_pct' },
        warning: { threshold: 10 },
        critical: { threshold: 5 },
      },
    };
    expect(issues(RuleInput.safeParse(rate))).toEqual([
      { code: 'threshold_order', path: 'condition.critical.threshold' },
    ]);
  });

  it('refuses unknown metrics with unknown_metric, and checks a patched condition the same way', () => {
    const unknown = {
      name: 'r',
      condition: { kind: 'threshold', metric: { path: 'cpu.bogus' }, warning: { threshold: 1 } },
    };
    expect(issues(RuleInput.safeParse(unknown))).toEqual([{ code: 'unknown_metric', path: 'condition.metric.path' }]);
    expect(
      issues(
        RulePatch.safeParse({
          condition: threshold({ warning: { threshold: 9 }, critical: { threshold: 8 } }).condition,
        }),
      ),
    ).toEqual([{ code: 'threshold_order', path: 'condition.critical.threshold' }]);
    expect(RulePatch.safeParse({ name: 'renamed' }).success).toBe(true);
  });

  it('fills the documented defaults', () => {
    const rule = RuleInput.parse({ name: 'down', condition: { kind: 'no_data' } });
    expect(rule).toMatchObject({
      enabled: true,
      scope: { type: 'all' },
      forSeconds: 0,
      keepFiringForSeconds: 0,
      condition: { kind: 'no_data', graceIntervals: 3, level: 'critical' },
      notify: { channelIds: null, renotifyMinutes: 240, groupWaitSeconds: 30, notifyResolved: true },
    });
  });
});
