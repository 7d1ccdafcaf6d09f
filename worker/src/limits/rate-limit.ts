import type { Env } from '../env.ts';
import { HttpError } from '../http/errors.ts';

export interface RateLimitRule {
  limit: number;
  windowSeconds: number;
}

/** Limits per concern; per IP and per account keys share a rule. */
export const RATE_LIMITS = {
  login: { limit: 10, windowSeconds: 15 * 60 },
  signup: { limit: 5, windowSeconds: 60 * 60 },
  passwordReset: { limit: 5, windowSeconds: 60 * 60 },
  emailChange: { limit: 5, windowSeconds: 60 * 60 },
  invitation: { limit: 30, windowSeconds: 60 * 60 },
  /** Per user: organisations are cheap to create and each may hold keys and hosts. */
  organizationCreate: { limit: 10, windowSeconds: 24 * 60 * 60 },
  apiKey: { limit: 600, windowSeconds: 60 },
  /** Per host: far above the 1 push/s live cadence, low enough to stop a runaway agent. */
  ingest: { limit: 300, windowSeconds: 60 },
  /** Per ingest key: a fleet rollout enrolls many hosts, a leaked key should not create thousands. */
  enroll: { limit: 200, windowSeconds: 3600 },
} satisfies Record<string, RateLimitRule>;

/** Counts one request against each key; the first key over its limit answers 429 with Retry-After. */
export async function enforceRateLimit(env: Env, rule: RateLimitRule, keys: string[]): Promise<void> {
  const verdicts = await Promise.all(
    keys.map((key) => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(key)).hit(rule.limit, rule.windowSeconds)),
  );
  const refused = verdicts.find((v) => !v.allowed);
  if (refused) {
    throw new HttpError(429, 'rate_limited', `Too many requests; try again in ${refused.retryAfterSeconds} s`, {
      headers: { 'Retry-After': String(refused.retryAfterSeconds) },
    });
  }
}

export function clientIp(request: Request): string {
  return request.headers.get('CF-Connecting-IP') ?? request.headers.get('X-Real-IP') ?? 'unknown';
}
