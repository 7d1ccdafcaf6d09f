import {
  type AlertLevel,
  type LabelMatcher,
  matchesLabels,
  parseLabelSelector,
  type Rule,
  type RuleScope,
} from '@pulsewire/protocol';

/** A horizontal line on a chart: where a rule's warning or critical level starts. */
export interface ThresholdLine {
  level: AlertLevel;
  value: number;
  /** The rule's name, for the line's label and tooltip. */
  rule: string;
  /** The line's label when the chart's unit is not the rule's (e.g. `90 %` on a chart in bytes). */
  text?: string;
}

/** What a rule's scope needs to know of a host. */
export interface ScopedHost {
  id: string;
  labels: Readonly<Record<string, string>>;
}

/** Whether a rule's scope covers the host (a selector that does not parse covers nothing). */
export function scopeCovers(scope: RuleScope, host: ScopedHost): boolean {
  switch (scope.type) {
    case 'all':
      return true;
    case 'hosts':
      return scope.hostIds.includes(host.id);
    default: {
      const matchers = parseLabelSelector(scope.selector);
      return matchers !== null && safeMatches(matchers, host.labels);
    }
  }
}

/**
 * The thresholds to draw on a host's chart of `metric`: enabled threshold rules on that metric whose
 * scope covers the host and whose series matchers accept `seriesLabels` (e.g. `{mount: '/'}` for one
 * filesystem; `{}` for host-level metrics). One line per distinct level and value, critical first.
 */
export function thresholdLines(
  rules: readonly Rule[],
  host: ScopedHost,
  metric: string,
  seriesLabels: Readonly<Record<string, string>> = {},
): ThresholdLine[] {
  const lines: ThresholdLine[] = [];
  for (const rule of rules) {
    const c = rule.condition;
    if (!rule.enabled || c.kind !== 'threshold' || c.metric.path !== metric) continue;
    if (!scopeCovers(rule.scope, host) || !safeMatches(c.metric.match, seriesLabels)) continue;
    for (const level of ['critical', 'warning'] as const) {
      const t = c[level];
      if (t && !lines.some((l) => l.level === level && l.value === t.threshold)) {
        lines.push({ level, value: t.threshold, rule: rule.name });
      }
    }
  }
  return lines.sort((a, b) => (a.level === b.level ? 0 : a.level === 'critical' ? -1 : 1));
}

/** Matchers from the API compile as anchored regexes; a broken one matches nothing rather than throwing. */
function safeMatches(matchers: readonly LabelMatcher[], labels: Readonly<Record<string, string>>): boolean {
  try {
    return matchesLabels(matchers, labels);
  } catch {
    return false;
  }
}

/** The thresholds a host page draws: CPU and memory (percent) and, per filesystem, disk usage. */
export interface HostThresholds {
  cpu: ThresholdLine[];
  memory: ThresholdLine[];
  disk: (mount: string) => ThresholdLine[];
}

export function hostThresholds(rules: readonly Rule[], host: ScopedHost): HostThresholds {
  return {
    cpu: thresholdLines(rules, host, 'cpu.total'),
    memory: thresholdLines(rules, host, 'memory.used_pct'),
    disk: (mount) => thresholdLines(rules, host, 'disk.used_pct', { mount }),
  };
}

/**
 * Percent thresholds moved onto a chart of absolute values (memory in bytes): `value × total / 100`,
 * still labelled in percent. None when the total is unknown.
 */
export function linesOfTotal(lines: readonly ThresholdLine[], total: number | undefined): ThresholdLine[] {
  if (!total || !(total > 0)) return [];
  return lines.map((l) => ({
    ...l,
    value: (l.value / 100) * total,
    text: `${l.level === 'critical' ? 'Critical' : 'Warning'} ${l.value} %`,
  }));
}
