/**
 * Synthetic history (pure TypeScript, no Node imports, so the Worker's tests and the browser may use it too):
 * `@pulsewire/stack/synthetic`.
 */
export { syntheticCustomMetrics } from './custom-metrics.ts';
export {
  SYNTHETIC_CORES,
  SYNTHETIC_MEM_TOTAL,
  type SyntheticHostOptions,
  syntheticHostFacts,
  syntheticSample,
} from './host.ts';
export {
  type SyntheticRange,
  syntheticCustomMetricsOver,
  syntheticSamples,
  syntheticTimestamps,
  type TimeStretch,
} from './timeline.ts';
