import { METRICS } from '@pulsewire/protocol';
import type { MetricCatalogEntry } from '#lib/api/alerts.ts';

/** The metric picker's options: the catalogue grouped by area, and label suggestions for one metric. */

const groupNames: Record<string, string> = {
  cpu: 'CPU',
  load: 'Load',
  memory: 'Memory',
  swap: 'Memory',
  disk: 'Filesystems',
  disk_io: 'Disk I/O',
  net: 'Network',
  gpu: 'GPUs',
  container: 'Containers',
  processes: 'Processes',
  temp: 'Temperatures',
  agent: 'Agent',
  custom: 'Custom metrics',
};

/** The built-in catalogue, for when `GET /rules/metrics` cannot be reached. */
export const fallbackCatalog: MetricCatalogEntry[] = METRICS.map((m) => ({ ...m }));

export function metricGroups(
  catalog: readonly MetricCatalogEntry[],
): { name: string; metrics: MetricCatalogEntry[] }[] {
  const groups = new Map<string, MetricCatalogEntry[]>();
  for (const m of catalog) {
    const name = groupNames[m.path.split('.')[0] ?? ''] ?? 'Other';
    const list = groups.get(name) ?? [];
    list.push(m);
    groups.set(name, list);
  }
  return [...groups].map(([name, metrics]) => ({ name, metrics }));
}

/** Label names and values to offer for a metric's matchers: its dimension first, then what was seen. */
export function seriesSuggestions(entry: MetricCatalogEntry | undefined): {
  names: string[];
  values: Record<string, string[]>;
} {
  const values: Record<string, Set<string>> = {};
  for (const labels of entry?.series ?? []) {
    for (const [name, value] of Object.entries(labels)) {
      const seen = values[name] ?? new Set<string>();
      seen.add(value);
      values[name] = seen;
    }
  }
  const names = [...new Set([...(entry?.dimension ? [entry.dimension] : []), ...Object.keys(values)])];
  return {
    names,
    values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, [...v].sort()])),
  };
}
