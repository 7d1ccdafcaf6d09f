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
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.value} ${r.unit} | ${r.baseline.name}: ${r.baseline.value} ${r.unit} | ×${r.ratio} | ${r.bar} | ${r.met ? 'met' : '**not met**'} |`,
  );
  return [
    `# Pulsewire benchmarks, ${at}`,
    '',
    `Machine: ${machine}. Local stack (wrangler dev + embedded PGlite), one process each for the stack and the clients.`,
    '',
    '| figure | value | baseline (same run) | ratio | bar | |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
