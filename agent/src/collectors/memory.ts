import si from 'systeminformation';
import type { Collector, Section } from './types.ts';

/** `used` is what applications hold (total − available), the figure `free` and Beszel show. */
export function memoryFromSi(mem: si.Systeminformation.MemData): NonNullable<Section['memory']> {
  return {
    total: mem.total,
    used: Math.max(0, mem.total - mem.available),
    available: mem.available,
    cached: mem.buffcache,
    swapTotal: mem.swaptotal,
    swapUsed: mem.swapused,
  };
}

/** systeminformation reads /proc/meminfo with one fs.readFile on Linux: cheap enough for every cycle. */
export function memoryCollector(read: () => Promise<si.Systeminformation.MemData> = () => si.mem()): Collector {
  return {
    name: 'memory',
    async collect() {
      return { memory: memoryFromSi(await read()) };
    },
  };
}
