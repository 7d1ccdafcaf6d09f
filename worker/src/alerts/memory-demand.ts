import { matchesLabels, type SeriesPoint, seriesKey } from '@pulsewire/protocol';
import { compileRule } from './compiled-rule.ts';
import { HOST_OVERHEAD_BYTES, WINDOW_HEADROOM_SHARE, WINDOW_OVERHEAD_BYTES } from './memory-budget.ts';
import { SeriesWindow } from './series-window.ts';
import type { EngineHost, EngineRule } from './types.ts';

/** A host and the series it reports (from its latest sample: metric and labels are enough). */
export interface ReportingHost {
  host: EngineHost;
  series: readonly Pick<SeriesPoint, 'metric' | 'labels'>[];
}

/**
 * What the engine would charge its budget for these rules on these hosts at the 10 s cadence: one
 * window per host, series and window length that an enabled threshold or rate rule watches (as the
 * engine opens them), plus each host's own cost. For the API, to refuse a rule that cannot fit
 * before the object has to leave series unwatched.
 */
export function projectedBytes(rules: readonly EngineRule[], hosts: readonly ReportingHost[]): number {
  const watching = rules.map(compileRule).filter((r) => {
    const kind = r.condition.kind;
    return r.spec.enabled && (kind === 'threshold' || kind === 'rate');
  });
  // A byte per rule the engine holds (the object gives it the enabled ones) for each host's scope answers.
  let bytes = hosts.length * (HOST_OVERHEAD_BYTES + rules.length);
  for (const { host, series } of hosts) {
    const byMetric = new Map<string, Pick<SeriesPoint, 'metric' | 'labels'>[]>();
    for (const s of series) byMetric.set(s.metric, [...(byMetric.get(s.metric) ?? []), s]);
    const windows = new Set<string>();
    for (const rule of watching) {
      const condition = rule.condition as Extract<EngineRule['spec']['condition'], { kind: 'threshold' | 'rate' }>;
      const candidates = byMetric.get(condition.metric.path);
      if (!candidates || !rule.inScope(host)) continue;
      for (const s of candidates) {
        if (!matchesLabels(condition.metric.match, s.labels)) continue;
        const key = `${rule.windowSeconds}|${seriesKey(s.metric, s.labels)}`;
        if (windows.has(key)) continue;
        windows.add(key);
        bytes += WINDOW_OVERHEAD_BYTES + SeriesWindow.openingBytes(rule.windowSeconds);
      }
    }
  }
  return bytes;
}

/** How much of a budget new windows may take (the engine keeps the rest for live cadences and alerts). */
export function windowRoomBytes(budgetBytes: number): number {
  return budgetBytes * (1 - WINDOW_HEADROOM_SHARE);
}
