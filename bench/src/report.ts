export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: { name: string; value: number };
  /** value ÷ baseline, both measured in this run. */
  ratio: number;
  bar: string;
  met: boolean;
  details: unknown;
}

export function renderSummary(at: string, machine: string, results: readonly BenchResult[]): string {
  const rows = results.map((r) => {
    // A figure may have no baseline in the run (e.g. a range past what the baseline table holds).
    const baseline = Number.isFinite(r.baseline.value)
      ? `${r.baseline.name}: ${r.baseline.value} ${r.unit}`
      : r.baseline.name;
    const ratio = Number.isFinite(r.ratio) ? `×${r.ratio}` : '–';
    return `| ${r.name} | ${r.value} ${r.unit} | ${baseline} | ${ratio} | ${r.bar} | ${r.met ? 'met' : '**not met**'} |`;
  });
  return [
    `# Pulsewire benchmarks, ${at}`,
    '',
    `Machine: ${machine}. latency, fan-out and alerting: the local stack (wrangler dev + embedded PGlite), one process each for the stack and the clients; storage and history: the Worker's history modules against scratch databases (PGlite, and the PostgreSQL server when reachable).`,
    '',
    '| figure | value | baseline (same run) | ratio | bar | |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
