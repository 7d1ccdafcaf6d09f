import { HostSamples, type LiveSample } from '@pulsewire/protocol';
import { apiGet, isApiError } from '#lib/api/client.ts';

/**
 * Samples of `hostId` in [from, to] (epoch ms) for an initial fill or a gap after a reconnect.
 * Resolves to `[]` when the history is not there (404, e.g. an older server) or cannot be read, so
 * live charts simply start from the live stream.
 */
export async function fetchSeries(
  hostId: string,
  from: number,
  to: number,
  options: { signal?: AbortSignal } = {},
): Promise<LiveSample[]> {
  const query = new URLSearchParams({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
  try {
    const answer = await apiGet(`/hosts/${encodeURIComponent(hostId)}/samples?${query}`, HostSamples, options);
    return answer.points;
  } catch (error) {
    if (options.signal?.aborted) throw error;
    if (isApiError(error)) {
      if (error.status !== 404) console.warn(`[live] history fill for ${hostId} failed: ${error.message}`);
      return [];
    }
    throw error;
  }
}
