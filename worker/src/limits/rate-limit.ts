import ipaddr from 'ipaddr.js';
import type { Env } from '../env.ts';
import { HttpError } from '../http/errors.ts';

export interface RateLimitRule {
  limit: number;
  windowSeconds: number;
}

/**
 * Limits per concern. "IP" means `ipSubject`: an IPv4 address, or an IPv6 /64 (one subscriber's
 * network, whose other 2^64 addresses would otherwise each get a fresh allowance).
 */
export const RATE_LIMITS = {
  /**
   * Sign-in: per (account, IP), so someone guessing a password from elsewhere cannot lock the owner
   * out from their own network; per IP across accounts (credential stuffing); and per account from
   * everywhere, a backstop against guessing spread over many networks.
   */
  loginPair: { limit: 10, windowSeconds: 15 * 60 },
  loginIp: { limit: 50, windowSeconds: 15 * 60 },
  loginAccount: { limit: 50, windowSeconds: 60 * 60 },
  /** Password change, per user (it checks the current password). */
  passwordChange: { limit: 10, windowSeconds: 15 * 60 },
  signup: { limit: 5, windowSeconds: 60 * 60 },
  /** Sign-up mails to one address, whoever asks: nobody can flood a mailbox through sign-up. */
  signupRecipient: { limit: 3, windowSeconds: 60 * 60 },
  passwordReset: { limit: 5, windowSeconds: 60 * 60 },
  emailChange: { limit: 5, windowSeconds: 60 * 60 },
  /** E-mailed links (verify, reset, invitation) looked up per IP: nobody guesses tokens against the database. */
  linkToken: { limit: 30, windowSeconds: 15 * 60 },
  invitation: { limit: 30, windowSeconds: 60 * 60 },
  /** Per user: organisations are cheap to create and each may hold keys and hosts. */
  organizationCreate: { limit: 10, windowSeconds: 24 * 60 * 60 },
  apiKey: { limit: 600, windowSeconds: 60 },
  /** Unknown API keys per IP; past it, that IP's keys are refused before any database lookup. */
  apiKeyFailures: { limit: 20, windowSeconds: 15 * 60 },
  /** Per host: far above the 1 push/s live cadence, low enough to stop a runaway agent. */
  ingest: { limit: 300, windowSeconds: 60 },
  /** Per ingest key: a fleet rollout enrolls many hosts, a leaked key should not create thousands. */
  enroll: { limit: 200, windowSeconds: 3600 },
  /**
   * Per client IP, failed agent credentials (bad signature, unknown host or key): one a second on average. A
   * fleet behind one NAT whose clocks are all wrong retries every 5 min per host, so it takes 300 such hosts.
   */
  authFailure: { limit: 300, windowSeconds: 300 },
} satisfies Record<string, RateLimitRule>;

const limiter = (env: Env, key: string) => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(key));

function tooMany(retryAfterSeconds: number, message?: (retryAfter: string) => string): HttpError {
  const minutes = Math.ceil(retryAfterSeconds / 60);
  const retryAfter = retryAfterSeconds < 90 ? `${retryAfterSeconds} s` : `${minutes} minutes`;
  return new HttpError(429, 'rate_limited', message?.(retryAfter) ?? `Too many requests; try again in ${retryAfter}`, {
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
}

/**
 * Counts one request against each key; the first key over its limit answers 429 with Retry-After.
 * `message` words the refusal for people ("try again in 12 minutes").
 */
export async function enforceRateLimit(
  env: Env,
  rule: RateLimitRule,
  keys: string[],
  message?: (retryAfter: string) => string,
): Promise<void> {
  const verdicts = await Promise.all(keys.map((key) => limiter(env, key).hit(rule.limit, rule.windowSeconds)));
  const refused = verdicts.find((v) => !v.allowed);
  if (refused) throw tooMany(refused.retryAfterSeconds, message);
}

/** 429 when `key` is already at its limit, without counting this request (failures are counted with `countFailure`). */
export async function refuseIfExhausted(env: Env, rule: RateLimitRule, key: string): Promise<void> {
  const verdict = await limiter(env, key).peek(rule.limit, rule.windowSeconds);
  if (!verdict.allowed) throw tooMany(verdict.retryAfterSeconds);
}

/** Counts a failure (e.g. an unknown API key) against `key`, for `refuseIfExhausted`. */
export async function countFailure(env: Env, rule: RateLimitRule, key: string): Promise<void> {
  await limiter(env, key).hit(rule.limit, rule.windowSeconds);
}

export function clientIp(request: Request): string {
  return request.headers.get('CF-Connecting-IP') ?? request.headers.get('X-Real-IP') ?? 'unknown';
}

/**
 * What per-IP limits count: the IPv4 address (IPv4-mapped IPv6 included), or the /64 of an IPv6
 * address, since one subscriber usually holds a whole /64 and could rotate through it.
 */
export function ipSubject(request: Request): string {
  const ip = clientIp(request);
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  const prefix = (address as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `${prefix.join(':')}::/64`;
}
