import os from 'node:os';
import { type Collector, round } from './types.ts';

/** Load averages from the kernel via libuv; no file read, no process spawned. Windows reports zeros: left out. */
export function loadCollector(loadavg: () => number[] = os.loadavg): Collector {
  return {
    name: 'load',
    async collect() {
      const [one = 0, five = 0, fifteen = 0] = loadavg();
      if (process.platform === 'win32') return undefined;
      return { load: { 1: round(one), 5: round(five), 15: round(fifteen) } };
    },
  };
}
