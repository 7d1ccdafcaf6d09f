import type { AlertTransition } from '../alerts/types.ts';
import type { NotifyChannel, NotifyContext, NotifyRule } from './types.ts';

/** Builders shared by the notifier's tests. */

export const ORG = '00000000-0000-4000-8000-000000000001';
export const RULE_ID = '00000000-0000-4000-8000-0000000000a1';
export const HOSTS = {
  web1: '00000000-0000-4000-8000-0000000000b1',
  web2: '00000000-0000-4000-8000-0000000000b2',
  db1: '00000000-0000-4000-8000-0000000000b3',
};
export const hostNames = new Map([
  [HOSTS.web1, 'web-1'],
  [HOSTS.web2, 'web-2'],
  [HOSTS.db1, 'db-1'],
]);

export function rule(
  over: Omit<Partial<NotifyRule>, 'notify'> & { notify?: Partial<NotifyRule['notify']> } = {},
): NotifyRule {
  return {
    id: RULE_ID,
    name: 'High CPU',
    runbook: 'https://wiki.example.com/runbooks/cpu',
    ...over,
    notify: { channelIds: null, renotifyMinutes: 240, groupWaitSeconds: 30, notifyResolved: true, ...over.notify },
  };
}

export function channel(id: string, over: Partial<NotifyChannel> = {}): NotifyChannel {
  return {
    id,
    name: `channel ${id.slice(-2)}`,
    enabled: true,
    minLevel: 'warning',
    config: { type: 'webhook', url: 'https://hooks.example.com/pulsewire' },
    quietHours: null,
    hourlyBudget: 30,
    secrets: [],
    ...over,
  };
}

export function context(now: number, over: Partial<NotifyContext> = {}): NotifyContext {
  const r = rule();
  return {
    organizationId: ORG,
    origin: 'https://app.pulsewire.test',
    now,
    rules: new Map([[r.id, r]]),
    channels: [channel('00000000-0000-4000-8000-0000000000c1')],
    silences: [],
    maintenanceWindows: [],
    hostNames,
    ...over,
  };
}

let counter = 0;
/** A distinct alert id per call unless given. */
export const alertId = () => `00000000-0000-4000-8000-${(++counter).toString(16).padStart(12, '0')}`;

export function firing(at: number, over: Partial<AlertTransition> = {}): AlertTransition {
  return {
    alertId: alertId(),
    ruleId: RULE_ID,
    hostId: HOSTS.web1,
    series: 'cpu.total',
    labels: { env: 'prod' },
    from: 'pending',
    to: 'firing',
    level: 'warning',
    previousLevel: null,
    value: 93.5,
    peak: 93.5,
    threshold: 90,
    message: 'cpu.total avg 5 min 93.5 > 90',
    startedAt: at - 300_000,
    firedAt: at,
    at,
    flapping: false,
    ...over,
  };
}

/** The next transition of the same alert instance. */
export const next = (t: AlertTransition, at: number, over: Partial<AlertTransition>): AlertTransition => ({
  ...t,
  from: t.to,
  previousLevel: null,
  at,
  ...over,
});
