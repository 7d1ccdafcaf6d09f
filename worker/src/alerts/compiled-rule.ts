import { matchesLabels, parseLabelSelector, type RuleCondition, type RuleSpec } from '@pulsewire/protocol';
import type { Timing } from './state-machine.ts';
import type { EngineHost, EngineRule } from './types.ts';

/** Kinds whose alerts follow a series of samples, and so go stale when their host is silent. */
export const SERIES_KINDS = new Set<RuleCondition['kind']>(['threshold', 'rate', 'forecast', 'anomaly']);

/** A rule made ready for evaluation: scope as a predicate, its window, its timing, a fingerprint. */
export interface CompiledRule {
  id: string;
  rule: EngineRule;
  spec: RuleSpec;
  condition: RuleCondition;
  /** Changes when the condition changes: instances of another fingerprint are reset. */
  fingerprint: string;
  timing: Timing;
  inScope(host: EngineHost): boolean;
  /** Seconds of samples kept per series for threshold and rate rules (0: only the newest). */
  windowSeconds: number;
}

export function compileRule(rule: EngineRule): CompiledRule {
  const { spec } = rule;
  const condition = spec.condition;
  // Reboot and event alerts fire at once and end by their own clocks.
  const timed = condition.kind !== 'reboot' && condition.kind !== 'event';
  return {
    id: rule.id,
    rule,
    spec,
    condition,
    fingerprint: fingerprint(condition),
    timing: {
      forMs: timed ? spec.forSeconds * 1000 : 0,
      keepFiringForMs: timed ? spec.keepFiringForSeconds * 1000 : 0,
    },
    inScope: scopePredicate(spec.scope),
    windowSeconds: windowOf(condition),
  };
}

function windowOf(condition: RuleCondition): number {
  if (condition.kind === 'rate') return condition.windowSeconds;
  if (condition.kind === 'threshold') return condition.aggregation === 'last' ? 0 : condition.windowSeconds;
  return 0;
}

function scopePredicate(scope: RuleSpec['scope']): (host: EngineHost) => boolean {
  switch (scope.type) {
    case 'all':
      return () => true;
    case 'hosts': {
      const ids = new Set(scope.hostIds);
      return (host) => ids.has(host.id);
    }
    default: {
      // Validated at the API; a selector that no longer parses matches nothing rather than everything.
      const matchers = parseLabelSelector(scope.selector);
      return matchers === null ? () => false : (host) => matchesLabels(matchers, host.labels);
    }
  }
}

/** JSON with keys sorted, so that equal conditions read alike whatever order their keys came in. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** 64 bits of FNV-1a (two 32-bit lanes), hex: short, stable keys for long strings. */
export function hash64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0xcbf29ce4;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000197) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

export function fingerprint(condition: RuleCondition): string {
  return hash64(stableJson(condition));
}
