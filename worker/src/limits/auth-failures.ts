import type { Env } from '../env.ts';
import { HttpError } from '../http/errors.ts';
import { RATE_LIMITS, type RateLimitRule } from './rate-limit.ts';

/**
 * Failed credentials at the agent endpoints (a bad ingest signature, an unknown host, an unknown enrollment
 * key) cost a database lookup and a signature check each, so they are limited per client IP. Only failures
 * are counted, so a healthy push pays nothing for this: no limiter call, no extra query.
 *
 * Once the limiter refuses an IP, this isolate remembers it until the window ends and answers 429 before the
 * lookup. Other isolates learn it on their next failure from that IP, so a flood costs at most one lookup per
 * isolate per window once it is over the limit.
 */
const blockedUntil = new Map<string, number>();
/** Bound on remembered IPs, so a spread-out flood cannot grow the isolate's memory. */
const MAX_REMEMBERED = 10_000;

export function authFailureKey(scope: 'ingest' | 'enroll', ip: string): string {
  return `auth-failure:${scope}:ip:${ip}`;
}

function refusal(retryAfterSeconds: number): HttpError {
  return new HttpError(429, 'rate_limited', `Too many failed attempts; try again in ${retryAfterSeconds} s`, {
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
}

/** Answers 429 at once while `key` is known to be over its failure limit. */
export function refuseWhileBlocked(key: string, now = Date.now()): void {
  const until = blockedUntil.get(key);
  if (until === undefined) return;
  if (until <= now) {
    blockedUntil.delete(key);
    return;
  }
  throw refusal(Math.max(1, Math.ceil((until - now) / 1000)));
}

/**
 * Runs `attempt`; when it fails with a 401, counts the failure against `key` and, past the limit, answers 429
 * (with Retry-After) instead of the 401 and remembers the key. Any other outcome passes through untouched.
 */
export async function countingAuthFailures<T>(
  env: Env,
  key: string,
  attempt: () => Promise<T>,
  rule: RateLimitRule = RATE_LIMITS.authFailure,
): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (!(error instanceof HttpError) || error.status !== 401) throw error;
    const verdict = await env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(key)).hit(rule.limit, rule.windowSeconds);
    if (verdict.allowed) throw error;
    if (blockedUntil.size >= MAX_REMEMBERED) {
      const oldest = blockedUntil.keys().next().value;
      if (oldest !== undefined) blockedUntil.delete(oldest);
    }
    blockedUntil.set(key, Date.now() + verdict.retryAfterSeconds * 1000);
    throw refusal(verdict.retryAfterSeconds);
  }
}
