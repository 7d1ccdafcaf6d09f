import { matchesLabels, type NotifiedAlert } from '@pulsewire/protocol';
import { maintenancePeriod } from './schedule.ts';
import type { NotifyContext } from './types.ts';

/**
 * Silences and maintenance windows. A suppressed alert is still recorded and shown; it only
 * notifies nobody, and the delivery log says why.
 */

export interface Suppression {
  reason: string;
  /** When the suppression ends (the notifier looks again then). */
  until: number;
}

/** The labels silences match on: the alert's own (series + rule labels) plus its identity. */
export function alertLabels(alert: NotifiedAlert): Record<string, string> {
  return {
    ...alert.labels,
    rule: alert.ruleId,
    rule_name: alert.ruleName,
    host: alert.hostId ?? '',
    host_name: alert.hostName ?? '',
    level: alert.level,
    series: alert.series,
  };
}

export function suppressionOf(alert: NotifiedAlert, ctx: NotifyContext): Suppression | null {
  const labels = alertLabels(alert);
  for (const silence of ctx.silences) {
    if (silence.startsAt <= ctx.now && ctx.now < silence.endsAt && matchesLabels(silence.matchers, labels)) {
      return { reason: `silenced by silence ${silence.id}`, until: silence.endsAt };
    }
  }
  for (const window of ctx.maintenanceWindows) {
    const period = maintenancePeriod(window, ctx.now);
    if (period && matchesLabels(window.matchers, labels)) {
      return { reason: `maintenance window "${window.name}"`, until: period.end };
    }
  }
  return null;
}
