import { describeError } from '../outbox.ts';
import type { SendResult } from '../types.ts';

/** What Slack and webhook channels share about talking HTTP to someone else's server. */

export const USER_AGENT = 'Pulsewire-Notifications/1 (+https://pulsewire.dev)';

/** `Retry-After` as delay-seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** At most `limit` characters of a response body (receivers may answer with anything, of any size). */
export async function readSnippet(res: Response, limit = 300): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // A body cut short still says what it said so far.
  } finally {
    await reader.cancel().catch(() => {});
  }
  return text.slice(0, limit).trim();
}

/**
 * POSTs JSON without following redirects (a redirect is a failure per Standard Webhooks, and would
 * let a target bounce us to an address the target check refused). Network errors and timeouts are
 * answered as retries.
 */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<Response | { outcome: 'retry'; status: null; error: string }> {
  try {
    return await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers },
      redirect: 'manual',
      signal,
    });
  } catch (error) {
    return { outcome: 'retry', status: null, error: describeError(error) };
  }
}

export const isResponse = (r: Response | SendResult): r is Response => r instanceof Response;
