import type { Sample } from '@pulsewire/protocol';
import type { Logger } from '../log.ts';
import { errorMessage } from '../log.ts';
import { cpuCollector } from './cpu.ts';
import { diskIoCollector } from './disk-io.ts';
import { disksCollector } from './disks.ts';
import { DEFAULT_DOCKER_SOCKET, dockerCollector } from './docker.ts';
import { nvidiaGpuCollector } from './gpu-nvidia.ts';
import { loadCollector } from './load.ts';
import { memoryCollector } from './memory.ts';
import { networkCollector } from './network.ts';
import { defaultProcPaths, type ProcPaths } from './proc.ts';
import { processesCollector } from './processes.ts';
import { type AgentGauges, selfCollector } from './self.ts';
import { tempsCollector } from './temps.ts';
import { type Collector, SourceAbsentError, throttle as throttleTo } from './types.ts';

export interface CollectorOptions {
  paths?: ProcPaths;
  dockerSocket?: string;
  nvidiaSmi?: string;
  /** Leave these collectors out entirely, e.g. `['docker']`. */
  disabled?: readonly string[];
  gauges?: () => AgentGauges;
  /** `collect --once` wants every collector in both of its rounds. */
  unthrottled?: boolean;
}

/**
 * The collector set and how often each runs at most. Fast /proc readers run every cycle; sources that spawn
 * a process or ask a daemon (df, nvidia-smi, Docker) or that grow with the machine (the process table)
 * are throttled, which bounds the agent's cost at the 1 s live cadence.
 */
export function defaultCollectors(options: CollectorOptions = {}): Collector[] {
  const paths = options.paths ?? defaultProcPaths;
  const throttle = options.unthrottled ? (collector: Collector) => collector : throttleTo;
  const all: Collector[] = [
    cpuCollector(paths),
    loadCollector(),
    memoryCollector(),
    disksCollector(),
    diskIoCollector(paths),
    networkCollector(paths),
    throttle(processesCollector(paths), 5000),
    tempsCollector(paths),
    throttle(nvidiaGpuCollector(options.nvidiaSmi), 2000),
    throttle(dockerCollector(options.dockerSocket ?? DEFAULT_DOCKER_SOCKET), 5000),
  ];
  if (options.gauges) all.push(selfCollector(options.gauges));
  const disabled = new Set(options.disabled ?? []);
  return all.filter((collector) => !disabled.has(collector.name));
}

/**
 * Runs every collector concurrently and merges what they return into one sample. A collector that fails is
 * left out of this sample and logged once (again only when its failure changes or after it recovered).
 */
export class SampleCollector {
  readonly collectors: readonly Collector[];
  readonly log: Logger;
  readonly #failing = new Map<string, string>();

  constructor(collectors: readonly Collector[], log: Logger) {
    this.collectors = collectors;
    this.log = log;
  }

  async collect(now = Date.now()): Promise<Sample> {
    const results = await Promise.allSettled(this.collectors.map((c) => c.collect(now)));
    const sample: Sample = { ts: now };
    results.forEach((result, i) => {
      const collector = this.collectors[i] as Collector;
      if (result.status === 'fulfilled') {
        if (this.#failing.delete(collector.name)) this.log.info(`collector ${collector.name} recovered`);
        if (result.value) Object.assign(sample, result.value);
        return;
      }
      const message = errorMessage(result.reason);
      if (this.#failing.get(collector.name) === message) return;
      this.#failing.set(collector.name, message);
      if (result.reason instanceof SourceAbsentError) {
        this.log.info(`collector ${collector.name} off: ${message}`, { collector: collector.name });
      } else {
        this.log.warn(`collector ${collector.name} failed: ${message}`, { collector: collector.name });
      }
    });
    return sample;
  }

  /** Names of the collectors whose last run failed, with why. */
  failures(): ReadonlyMap<string, string> {
    return this.#failing;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.collectors.map((c) => c.close?.()));
  }
}
