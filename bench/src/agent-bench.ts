/** The `agent` benchmark's rows in the summary: per build of the agent, CPU per cycle, CPU at 1 s and RSS. */
import type { AgentBenchRun } from './agent-footprint.ts';
import type { Footprint } from './proc-tree.ts';
import type { BenchResult } from './report.ts';
import { round } from './stats.ts';

export const AGENT_RSS_BAR_MB = 60;
export const AGENT_LIVE_CPU_BAR_PCT = 1;

/** Decimal megabytes, as the bar (and Datadog's 55 MB) are stated. */
const mb = (mib: number) => (mib * 2 ** 20) / 1e6;

export function agentResults(run: AgentBenchRun): BenchResult[] {
  const exporterIdle = run.idle.peers.node_exporter;
  const netdataLive = run.live.peers.Netdata;
  const exporterRss = exporterIdle ? mb(exporterIdle.rssMedianMiB) : Number.NaN;
  const absent = (peer: string) => `${peer}: not measured (${run.missing.find((m) => m.includes(peer)) ?? 'absent'})`;
  const rows: BenchResult[] = [];
  for (const variant of run.variants) {
    const idle = run.idle.agents[variant.label] as Footprint;
    const live = run.live.agents[variant.label] as Footprint;
    const details = {
      variant,
      idle,
      live,
      peers: { idle: run.idle.peers, live: run.live.peers },
      missing: run.missing,
    };
    rows.push({
      name: `agent CPU per collection cycle, idle cadence (${variant.label}; ${round(idle.cpuPct)} % of a core)`,
      value: round(idle.cpuMsPerCycle),
      unit: 'ms',
      baseline: exporterIdle
        ? {
            name: `node_exporter per scrape, every 10 s (${round(exporterIdle.cpuPct)} %)`,
            value: round(exporterIdle.cpuMsPerCycle),
          }
        : { name: absent('node_exporter'), value: Number.NaN },
      ratio: exporterIdle ? round(idle.cpuMsPerCycle / exporterIdle.cpuMsPerCycle) : Number.NaN,
      bar: "≤ node_exporter's per scrape",
      met: !!exporterIdle && idle.cpuMsPerCycle <= exporterIdle.cpuMsPerCycle,
      details,
    });
    rows.push({
      name: `agent CPU at the 1 s live cadence (${variant.label}; ${round(live.cpuMsPerCycle)} ms per cycle)`,
      value: round(live.cpuPct),
      unit: '% of a core',
      baseline: netdataLive
        ? {
            name: `Netdata, collecting every 1 s (${round(netdataLive.cpuMsPerCycle)} ms per second)`,
            value: round(netdataLive.cpuPct),
          }
        : { name: absent('Netdata'), value: Number.NaN },
      ratio: netdataLive ? round(live.cpuPct / netdataLive.cpuPct) : Number.NaN,
      bar: `< ${AGENT_LIVE_CPU_BAR_PCT} % of one core`,
      met: live.cpuPct < AGENT_LIVE_CPU_BAR_PCT,
      details,
    });
    // Steady state: the larger of the two windows' medians.
    const rss = mb(Math.max(idle.rssMedianMiB, live.rssMedianMiB));
    rows.push({
      name: `agent RSS, steady state (${variant.label}; idle ${round(mb(idle.rssMedianMiB))} MB, live ${round(mb(live.rssMedianMiB))} MB${netdataLive ? `; Netdata ${round(mb(netdataLive.rssMedianMiB))} MB` : ''})`,
      value: round(rss),
      unit: 'MB',
      baseline: exporterIdle
        ? { name: 'node_exporter', value: round(exporterRss) }
        : { name: absent('node_exporter'), value: Number.NaN },
      ratio: exporterIdle ? round(rss / exporterRss) : Number.NaN,
      bar: `≤ ${AGENT_RSS_BAR_MB} MB`,
      met: rss <= AGENT_RSS_BAR_MB,
      details,
    });
  }
  return rows;
}
