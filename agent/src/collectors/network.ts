import type { Systeminformation } from 'systeminformation';
import { defaultProcPaths, isLinux, type ProcPaths, readProc } from './proc.ts';
import { systeminformation } from './si.ts';
import { type Collector, perSecond, round, type Section } from './types.ts';

export interface IfaceCounters {
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
}

/** Loopback carries no host traffic; veth pairs mirror container traffic already seen on the bridge. */
export function isReportedInterface(name: string): boolean {
  return name !== 'lo' && !name.startsWith('veth');
}

export function parseNetDev(text: string): Map<string, IfaceCounters> {
  const result = new Map<string, IfaceCounters>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.includes('|')) continue;
    const name = line.slice(0, colon).trim();
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (f.length < 16 || !isReportedInterface(name)) continue;
    result.set(name, {
      rxBytes: f[0] ?? 0,
      rxPackets: f[1] ?? 0,
      rxErrors: f[2] ?? 0,
      txBytes: f[8] ?? 0,
      txPackets: f[9] ?? 0,
      txErrors: f[10] ?? 0,
    });
  }
  return result;
}

export function netFromCounters(
  current: Map<string, IfaceCounters>,
  previous: Map<string, IfaceCounters>,
  elapsedMs: number,
): NonNullable<Section['net']> {
  const result: NonNullable<Section['net']> = [];
  for (const [iface, now] of current) {
    const before = previous.get(iface) ?? now;
    result.push({
      iface,
      rxBytesPerSec: perSecond(now.rxBytes, before.rxBytes, elapsedMs),
      txBytesPerSec: perSecond(now.txBytes, before.txBytes, elapsedMs),
      rxPacketsPerSec: perSecond(now.rxPackets, before.rxPackets, elapsedMs),
      txPacketsPerSec: perSecond(now.txPackets, before.txPackets, elapsedMs),
      rxErrors: now.rxErrors,
      txErrors: now.txErrors,
      rxTotal: now.rxBytes,
      txTotal: now.txBytes,
    });
  }
  return result.slice(0, 64);
}

/** Fallback mapping where /proc is not available; systeminformation has no packet counters there. */
export function netFromSi(stats: Systeminformation.NetworkStatsData[]): NonNullable<Section['net']> {
  return stats
    .filter((s) => isReportedInterface(s.iface))
    .slice(0, 64)
    .map((s) => ({
      iface: s.iface,
      rxBytesPerSec: round(Math.max(0, s.rx_sec ?? 0)),
      txBytesPerSec: round(Math.max(0, s.tx_sec ?? 0)),
      rxPacketsPerSec: 0,
      txPacketsPerSec: 0,
      rxErrors: s.rx_errors,
      txErrors: s.tx_errors,
      rxTotal: s.rx_bytes,
      txTotal: s.tx_bytes,
    }));
}

/** One read of /proc/net/dev per cycle (systeminformation spawns `cat` per interface). */
export function networkCollector(paths: ProcPaths = defaultProcPaths, linux = isLinux): Collector {
  let previous: { at: number; counters: Map<string, IfaceCounters> } | undefined;
  return {
    name: 'net',
    async collect(now) {
      if (!linux) {
        const net = netFromSi(await (await systeminformation()).networkStats('*'));
        return net.length > 0 ? { net } : undefined;
      }
      const counters = parseNetDev(await readProc(paths, 'net', 'dev'));
      const before = previous;
      previous = { at: now, counters };
      if (!before) return undefined;
      return { net: netFromCounters(counters, before.counters, now - before.at) };
    },
  };
}
