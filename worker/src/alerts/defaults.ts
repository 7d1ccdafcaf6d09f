import { ChannelInput, type RuleCondition, RuleInput, type RuleSpec } from '@pulsewire/protocol';

/**
 * What every organisation starts with (design.md, "Alerts"): five rules and an e-mail channel to its
 * owners and admins, so a user who configures nothing is still told. Built in, but editable and
 * removable like anything else. The one place these are defined: organisation creation inserts them
 * (auth/organizations.ts), and the migration that introduced them (drizzle/0003_alerting.sql) inserted
 * the same for every organisation that existed then; a test compares both with this file.
 */

const notify = { channelIds: null, renotifyMinutes: 240, groupWaitSeconds: 30, notifyResolved: true };

function rule(name: string, condition: RuleCondition, forSeconds = 0): RuleSpec {
  return RuleInput.parse({ name, condition, forSeconds, notify });
}

export const DEFAULT_RULES: readonly RuleSpec[] = [
  rule(
    'High CPU',
    {
      kind: 'threshold',
      metric: { path: 'cpu.total', match: [] },
      aggregation: 'avg',
      windowSeconds: 300,
      comparison: 'gt',
      warning: { threshold: 90, recovery: 80 },
      critical: { threshold: 97, recovery: 90 },
    },
    300,
  ),
  rule(
    'High memory',
    {
      kind: 'threshold',
      metric: { path: 'memory.used_pct', match: [] },
      aggregation: 'avg',
      windowSeconds: 300,
      comparison: 'gt',
      warning: { threshold: 90, recovery: 85 },
      critical: { threshold: 95, recovery: 90 },
    },
    300,
  ),
  // No matcher: one alert per mount.
  rule('Disk almost full', {
    kind: 'threshold',
    metric: { path: 'disk.used_pct', match: [] },
    aggregation: 'last',
    windowSeconds: 0,
    comparison: 'gt',
    warning: { threshold: 85, recovery: 80 },
    critical: { threshold: 95, recovery: 90 },
  }),
  rule('Host down', { kind: 'no_data', graceIntervals: 3, level: 'critical' }),
  rule('Disk full within 24 h', {
    kind: 'forecast',
    metric: { path: 'disk.used_pct', match: [] },
    lookbackHours: 6,
    horizonHours: 24,
    comparison: 'gt',
    threshold: 100,
    level: 'warning',
  }),
];

export const DEFAULT_CHANNEL = ChannelInput.parse({
  name: 'Owners and admins',
  minLevel: 'warning',
  config: { type: 'email', to: { kind: 'roles', roles: ['owner', 'admin'] } },
});

/** The rows to insert for a new organisation (one transaction with the organisation itself). */
export function defaultAlertingRows(tenantId: string) {
  return {
    rules: DEFAULT_RULES.map(({ name, enabled, ...spec }) => ({
      tenantId,
      name,
      enabled,
      kind: spec.condition.kind,
      spec,
      builtIn: true,
    })),
    channel: {
      tenantId,
      type: DEFAULT_CHANNEL.config.type,
      name: DEFAULT_CHANNEL.name,
      config: DEFAULT_CHANNEL.config,
      minLevel: DEFAULT_CHANNEL.minLevel,
      enabled: DEFAULT_CHANNEL.enabled,
      quietHours: DEFAULT_CHANNEL.quietHours,
      hourlyBudget: DEFAULT_CHANNEL.hourlyBudget,
      builtIn: true,
    },
  };
}
