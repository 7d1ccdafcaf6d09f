import { Sample } from '@pulsewire/protocol';
import { defaultCollectors, SampleCollector } from '../collectors/index.ts';
import type { ResolvedConfig } from '../config/load.ts';
import { createLogger } from '../log.ts';

/** Rates (CPU, network, disk I/O, per-process CPU) need two readings this far apart. */
const PRIME_MS = 500;

/** One sample, checked against the protocol schema, as it would be sent. */
export async function collectOnce(config: ResolvedConfig, json: boolean, out: (text: string) => void): Promise<void> {
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const collector = new SampleCollector(
    defaultCollectors({
      ...(config.dockerSocket ? { dockerSocket: config.dockerSocket } : {}),
      ...(config.nvidiaSmi ? { nvidiaSmi: config.nvidiaSmi } : {}),
      disabled: config.disabledCollectors,
      gauges: () => ({ queueDepth: 0, spoolDepth: 0 }),
      unthrottled: true,
    }),
    log,
  );
  const first = await collector.collect(Date.now());
  await new Promise((resolve) => setTimeout(resolve, PRIME_MS));
  const second = await collector.collect(Date.now());
  await collector.close();
  // Sections that need no second reading (memory, disks, GPUs…) come from the first round if the second lacks them.
  const sample = Sample.parse({ ...first, ...second });
  out(json ? JSON.stringify(sample) : JSON.stringify(sample, null, 2));
}
