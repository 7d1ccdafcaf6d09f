import type { Systeminformation } from 'systeminformation';
import { defaultProcPaths, isLinux, type ProcPaths, readProc } from './proc.ts';
import { systeminformation } from './si.ts';
import type { Collector, Section } from './types.ts';

/** `used` is what applications hold (total − available), the figure `free` and Beszel show. */
export function memoryFromSi(mem: Systeminformation.MemData): NonNullable<Section['memory']> {
  return {
    total: mem.total,
    used: Math.max(0, mem.total - mem.available),
    available: mem.available,
    cached: mem.buffcache,
    swapTotal: mem.swaptotal,
    swapUsed: mem.swapused,
  };
}

/**
 * /proc/meminfo read as systeminformation's `mem()` reads it on Linux (so figures do not change with the
 * platform path): cached is Buffers + Cached + Slab, available is MemAvailable (free + cached on kernels
 * before 3.14, which lack it).
 */
export function memoryFromMeminfo(text: string): NonNullable<Section['memory']> {
  const kib = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([\w()]+):\s+(\d+)/.exec(line);
    if (match) kib.set(match[1] as string, Number(match[2]) * 1024);
  }
  const value = (key: string) => kib.get(key) ?? 0;
  const total = value('MemTotal');
  const cached = value('Buffers') + value('Cached') + value('Slab');
  const available = kib.get('MemAvailable') ?? value('MemFree') + cached;
  const swapTotal = value('SwapTotal');
  return {
    total,
    used: Math.max(0, total - available),
    available,
    cached,
    swapTotal,
    swapUsed: Math.max(0, swapTotal - value('SwapFree')),
  };
}

/** One read of /proc/meminfo per cycle on Linux; systeminformation elsewhere. */
export function memoryCollector(paths: ProcPaths = defaultProcPaths, linux = isLinux): Collector {
  return {
    name: 'memory',
    async collect() {
      if (linux) return { memory: memoryFromMeminfo(await readProc(paths, 'meminfo')) };
      return { memory: memoryFromSi(await (await systeminformation()).mem()) };
    },
  };
}
