import type { Env } from '../env.ts';
import { HttpError } from '../http/errors.ts';
import { RATE_LIMITS } from './rate-limit.ts';

/**
 * Pushes per host: far above the 1 push/s live cadence, low enough to stop a runaway agent. Counted by Workers'
 * Rate Limiting binding (wrangler.toml `INGEST_LIMITER`, 300 a minute per host and location) rather than a
 * Durable Object: every push would otherwise cost an object request, a storage write and an alarm, about
 * $0.26 per host-month at the idle cadence (issue #13). Its counts are approximate and per location, which is
 * what a runaway-agent guard needs; the limits that protect accounts stay exact (rate-limit.ts).
 */
export async function limitIngest(env: Env, hostId: string): Promise<void> {
  if (!env.INGEST_LIMITER) return;
  const { success } = await env.INGEST_LIMITER.limit({ key: `host:${hostId}` });
  if (success) return;
  const retryAfter = RATE_LIMITS.ingest.windowSeconds;
  throw new HttpError(429, 'rate_limited', `This host pushes too often; try again in ${retryAfter} s`, {
    headers: { 'Retry-After': String(retryAfter) },
  });
}
