import { monotonicMs } from '../clock.ts';
import type { Collector } from './types.ts';
import { round } from './types.ts';

export interface AgentGauges {
  queueDepth: number;
  spoolDepth: number;
  sendLatencyMs?: number;
}

/** The agent's own footprint: CPU since the previous sample (percent of one core), RSS and its queues. */
export function selfCollector(gauges: () => AgentGauges): Collector {
  let previous = { at: monotonicMs(), cpu: process.cpuUsage() };
  return {
    name: 'agent',
    async collect() {
      const at = monotonicMs();
      const cpu = process.cpuUsage();
      const usedMicros = cpu.user + cpu.system - (previous.cpu.user + previous.cpu.system);
      const elapsedMs = at - previous.at;
      previous = { at, cpu };
      const { queueDepth, spoolDepth, sendLatencyMs } = gauges();
      return {
        agent: {
          cpuPct: elapsedMs > 0 ? round(Math.max(0, usedMicros / 1000 / elapsedMs) * 100, 3) : 0,
          rssBytes: process.memoryUsage.rss(),
          queueDepth,
          spoolDepth,
          ...(sendLatencyMs !== undefined ? { sendLatencyMs: round(sendLatencyMs, 1) } : {}),
        },
      };
    },
  };
}
