/** Parses a `Server-Timing` header into phase → ms (local mode's ingest answers carry one; unknown parts skipped). */
export function parseServerTiming(header: string | null): Record<string, number> {
  const result: Record<string, number> = {};
  if (!header) return result;
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().split(';');
    const dur = params.map((p) => /^\s*dur=([\d.]+)\s*$/.exec(p)?.[1]).find((d) => d !== undefined);
    if (name && dur !== undefined) result[name] = (result[name] ?? 0) + Number(dur);
  }
  return result;
}
