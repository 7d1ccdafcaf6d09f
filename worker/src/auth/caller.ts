import { API_KEY_PREFIX, type Role, roleAtLeast } from '@pulsewire/protocol';
import { eq } from 'drizzle-orm';
import type { Context, MiddlewareHandler } from 'hono';
import { apiKeys, memberships, users } from '../db/schema.ts';
import type { AppEnv, Caller } from '../http/app-env.ts';
import { db } from '../http/database.ts';
import { HttpError, unauthorized } from '../http/errors.ts';
import { countFailure, enforceRateLimit, ipSubject, RATE_LIMITS, refuseIfExhausted } from '../limits/rate-limit.ts';
import { findSession } from './session.ts';
import { sha256Hex } from './tokens.ts';

export { roleAtLeast };

/** The organisation a signed-in user works in: the session's choice if still a member, else their first. */
async function resolveMembership(c: Context<AppEnv>, userId: string, preferred: string | null) {
  const rows = await db(c)
    .select({ tenantId: memberships.tenantId, role: memberships.role })
    .from(memberships)
    .where(eq(memberships.userId, userId))
    .orderBy(memberships.createdAt);
  return rows.find((m) => m.tenantId === preferred) ?? rows[0];
}

async function callerFromApiKey(c: Context<AppEnv>, secret: string): Promise<Caller> {
  if (!secret.startsWith(API_KEY_PREFIX) || secret.length > 200) throw unauthorized('Invalid API key');
  // An IP that keeps presenting unknown keys is refused before the database is asked again.
  const failures = `key-failures:${ipSubject(c.req.raw)}`;
  await refuseIfExhausted(c.env, RATE_LIMITS.apiKeyFailures, failures);
  const [key] = await db(c)
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.secretHash, await sha256Hex(secret)))
    .limit(1);
  if (!key) {
    await countFailure(c.env, RATE_LIMITS.apiKeyFailures, failures);
    throw unauthorized('Invalid API key');
  }
  if (key.revokedAt) throw new HttpError(401, 'key_revoked', 'This API key has been revoked');
  if (key.scope !== 'read') throw new HttpError(403, 'wrong_key_scope', 'This API key may only be used by agents');
  await enforceRateLimit(c.env, RATE_LIMITS.apiKey, [`key:${key.id}`]);
  if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > 60_000) {
    await db(c).update(apiKeys).set({ lastUsedAt: new Date() }).where(eq(apiKeys.id, key.id));
  }
  return { kind: 'api_key', keyId: key.id, tenantId: key.tenantId, role: 'viewer' };
}

/**
 * Until its address is verified an account can do nothing but verify it (or ask for a new link),
 * see itself and sign out: whoever signs up with someone else's address gets no organisation to
 * prepare, no keys that would outlive the real owner's reset, and no invitations to send.
 */
export const emailUnverified = () =>
  new HttpError(403, 'email_unverified', 'Verify your e-mail address first: open the link we sent you');

/** A signed-in, verified user, whether or not they belong to an organisation (to create their first one). */
export async function resolveUser(c: Context<AppEnv>): Promise<{ userId: string; sessionId: string }> {
  if (c.req.header('Authorization')) throw unauthorized('This route needs a signed-in session, not an API key');
  const session = await findSession(c, db(c));
  if (!session) throw unauthorized();
  const [user] = await db(c)
    .select({ verifiedAt: users.emailVerifiedAt })
    .from(users)
    .where(eq(users.id, session.userId))
    .limit(1);
  if (!user) throw unauthorized();
  if (!user.verifiedAt) throw emailUnverified();
  return { userId: session.userId, sessionId: session.id };
}

export interface CallerOptions {
  allowApiKey: boolean;
  /** The few routes an unverified account may use (see `emailUnverified`). */
  allowUnverified?: boolean;
}

/** Resolves the caller from the session cookie or a `read` API key, or answers 401. */
export async function resolveCaller(c: Context<AppEnv>, options: CallerOptions): Promise<Caller> {
  const authorization = c.req.header('Authorization');
  if (authorization) {
    if (!options.allowApiKey) throw unauthorized('This route needs a signed-in session, not an API key');
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) throw unauthorized('Malformed Authorization header; expected "Bearer <key>"');
    return callerFromApiKey(c, match[1] as string);
  }
  const session = await findSession(c, db(c));
  if (!session) throw unauthorized();
  const [user] = await db(c)
    .select({ email: users.email, verifiedAt: users.emailVerifiedAt })
    .from(users)
    .where(eq(users.id, session.userId))
    .limit(1);
  if (!user) throw unauthorized();
  if (!user.verifiedAt && !options.allowUnverified) throw emailUnverified();
  const membership = await resolveMembership(c, session.userId, session.activeTenantId);
  if (!membership) throw new HttpError(403, 'no_organization', 'You are not a member of any organisation');
  return {
    kind: 'session',
    userId: session.userId,
    email: user.email,
    sessionId: session.id,
    tenantId: membership.tenantId,
    role: membership.role,
  };
}

/**
 * Route guard: a caller with at least `minimum` role. `read` API keys act as viewers on GET routes
 * only: they are for scripts that read, never for changes.
 */
export function requireCaller(
  minimum: Role = 'viewer',
  options: { allowUnverified?: boolean } = {},
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const readOnly = c.req.method === 'GET' || c.req.method === 'HEAD';
    if (!readOnly && c.req.header('Authorization')) {
      throw new HttpError(403, 'read_only_key', 'API keys can only read; sign in to make changes');
    }
    const caller = await resolveCaller(c, { allowApiKey: readOnly, ...options });
    if (!roleAtLeast(caller.role, minimum)) {
      throw new HttpError(403, 'insufficient_role', `This action needs the ${minimum} role`);
    }
    c.set('caller', caller);
    await next();
  };
}

/** The guarded caller; routes call this after `requireCaller` ran. */
export function caller(c: Context<AppEnv>): Caller {
  const value = c.get('caller');
  if (!value) throw unauthorized();
  return value;
}

export function sessionCaller(c: Context<AppEnv>): Extract<Caller, { kind: 'session' }> {
  const value = caller(c);
  if (value.kind !== 'session') throw unauthorized('This route needs a signed-in session');
  return value;
}
