import type { Cadence } from '@pulsewire/protocol';
import type { Config } from '../env.ts';

/**
 * The cadence of a host nobody watches live: the service's cost/freshness trade-off, from the configuration.
 * One definition for the push answer (api/agents.ts) and the control socket (tenant/agent-control.ts).
 */
export function idleCadence(config: Pick<Config, 'INGEST_IDLE_COLLECT_MS' | 'INGEST_IDLE_PUSH_MS'>): Cadence {
  return { collectIntervalMs: config.INGEST_IDLE_COLLECT_MS, pushIntervalMs: config.INGEST_IDLE_PUSH_MS, live: false };
}
