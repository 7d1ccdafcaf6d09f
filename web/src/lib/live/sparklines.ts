import { type LiveSample, MAX_SPARKLINE_HOSTS, type SparklinePoint } from '@pulsewire/protocol';
import { isApiError } from '#lib/api/client.ts';
import { hosts } from '#lib/api/hosts.ts';

/** Sparkline history of many hosts over [from, to] (epoch ms), by host id; default {@link fetchSparklines}. */
export type SparklinesFetcher = (
  hostIds: readonly string[],
  from: number,
  to: number,
  options?: { signal?: AbortSignal },
) => Promise<Map<string, LiveSample[]>>;

/**
 * A sparkline point as the live sample the list's rolling series takes. Only what the list draws is real:
 * CPU total, memory used / total and the network total (as one interface); the host page never sees these.
 */
export function sparklineSample(point: SparklinePoint): LiveSample {
  const sample: LiveSample = { ts: point.ts };
  if (point.cpu !== undefined) {
    sample.cpu = { total: point.cpu, user: point.cpu, system: 0, iowait: 0, steal: 0, perCore: [] };
  }
  if (point.memUsed !== undefined && point.memTotal !== undefined) {
    sample.mem = { total: point.memTotal, used: point.memUsed, cached: 0, swapTotal: 0, swapUsed: 0 };
  }
  if (point.net !== undefined) sample.net = [{ iface: 'all', rx: point.net, tx: 0 }];
  return sample;
}

/**
 * `GET /hosts/sparklines` for any number of hosts: one request per {@link MAX_SPARKLINE_HOSTS}, one after the
 * other. Best effort: an API error (e.g. an older server) logs and answers what arrived, so the sparklines
 * simply start from the live stream.
 */
export async function fetchSparklines(
  hostIds: readonly string[],
  from: number,
  to: number,
  options: { signal?: AbortSignal } = {},
): Promise<Map<string, LiveSample[]>> {
  const byHost = new Map<string, LiveSample[]>();
  for (let i = 0; i < hostIds.length; i += MAX_SPARKLINE_HOSTS) {
    const ids = hostIds.slice(i, i + MAX_SPARKLINE_HOSTS);
    try {
      const answer = await hosts.sparklines(ids, { from, to }, options);
      for (const host of answer.hosts) byHost.set(host.hostId, host.points.map(sparklineSample));
    } catch (error) {
      if (options.signal?.aborted || !isApiError(error)) throw error;
      console.warn(`[live] sparkline history for ${ids.length} hosts failed: ${error.message}`);
    }
  }
  return byHost;
}
