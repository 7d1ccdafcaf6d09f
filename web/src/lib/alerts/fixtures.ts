import type { Alert, Channel, Rule } from '@pulsewire/protocol';

/** API answers as the protocol shapes them, for unit tests of the alerting pages. */

export const HOST_A = '0b8e4a7e-5c1d-4f7a-9a36-2f0e4d6c8b11';
export const HOST_B = '5d7c2a10-3b4e-4f6a-8c9d-0e1f2a3b4c5d';
export const RULE_CPU = '7f1e2d3c-4b5a-4968-8776-655443322110';
export const RULE_DISK = '1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d';
export const CHANNEL_MAIL = '9e8d7c6b-5a49-4837-a261-504f3e2d1c0b';
export const ALERT_1 = 'c0ffee00-1111-4222-8333-444455556666';
export const ALERT_2 = 'c0ffee00-7777-4888-9999-aaaabbbbcccc';

const T = '2026-11-23T12:00:00.000Z';

export function cpuRule(overrides: Partial<Rule> = {}): Rule {
  return {
    id: RULE_CPU,
    name: 'High CPU',
    enabled: true,
    description: '',
    runbook: '',
    labels: {},
    scope: { type: 'all' },
    condition: {
      kind: 'threshold',
      metric: { path: 'cpu.total', match: [] },
      aggregation: 'avg',
      windowSeconds: 300,
      comparison: 'gt',
      warning: { threshold: 90, recovery: 80 },
      critical: { threshold: 97, recovery: 90 },
    },
    forSeconds: 300,
    keepFiringForSeconds: 0,
    notify: { channelIds: null, renotifyMinutes: 240, groupWaitSeconds: 30, notifyResolved: true },
    builtIn: true,
    createdAt: T,
    updatedAt: T,
    ...overrides,
  };
}

export function diskRule(overrides: Partial<Rule> = {}): Rule {
  return cpuRule({
    id: RULE_DISK,
    name: 'Disk almost full',
    condition: {
      kind: 'threshold',
      metric: { path: 'disk.used_pct', match: [] },
      aggregation: 'last',
      windowSeconds: 0,
      comparison: 'gt',
      warning: { threshold: 85, recovery: 80 },
      critical: { threshold: 95, recovery: 90 },
    },
    forSeconds: 0,
    ...overrides,
  });
}

export function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: ALERT_1,
    ruleId: RULE_CPU,
    ruleName: 'High CPU',
    hostId: HOST_A,
    hostName: 'web-1',
    series: 'cpu.total',
    labels: {},
    level: 'warning',
    state: 'firing',
    value: 93,
    peak: 95,
    threshold: 90,
    message: 'CPU busy 93 % > 90 %',
    startedAt: '2026-11-23T11:50:00.000Z',
    firedAt: '2026-11-23T11:55:00.000Z',
    resolvedAt: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    silenced: false,
    ...overrides,
  };
}

export function emailChannel(overrides: Partial<Channel> = {}): Channel {
  return {
    id: CHANNEL_MAIL,
    name: 'Owners and admins',
    enabled: true,
    minLevel: 'warning',
    config: { type: 'email', to: { kind: 'roles', roles: ['owner', 'admin'] } },
    quietHours: null,
    hourlyBudget: 30,
    builtIn: true,
    disabledReason: null,
    createdAt: T,
    ...overrides,
  };
}
