/**
 * Parts of a series key (`disk.used_pct{mount="/"}`, protocol's seriesKey) that storage groups by.
 * Metric paths and custom metric names never contain '{', so the first '{' starts the labels.
 */

/** `disk.used{mount="/"}` → `disk.used`. */
export function seriesPath(seriesKeyOrPath: string): string {
  const brace = seriesKeyOrPath.indexOf('{');
  return brace === -1 ? seriesKeyOrPath : seriesKeyOrPath.slice(0, brace);
}

/**
 * The path's first segment: `cpu`, `memory`, `disk`, `disk_io`, `net`, `container`, `temp`, `custom`, …
 * Series of one family are charted together, so a chunk per family and period is what one chart reads.
 */
export function seriesFamily(seriesKeyOrPath: string): string {
  const path = seriesPath(seriesKeyOrPath);
  const dot = path.indexOf('.');
  return dot === -1 ? path : path.slice(0, dot);
}

/** `path{a="1"}` → its path and labels (values are JSON strings, as `seriesKey` writes them). */
export function parseSeriesKey(key: string): { metric: string; labels: Record<string, string> } {
  const brace = key.indexOf('{');
  if (brace === -1) return { metric: key, labels: {} };
  const labels: Record<string, string> = {};
  for (const match of key.slice(brace).matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*")/g)) {
    labels[match[1] as string] = JSON.parse(match[2] as string) as string;
  }
  return { metric: key.slice(0, brace), labels };
}
