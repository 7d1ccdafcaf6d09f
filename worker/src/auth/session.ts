import { and, eq, gt, isNull, ne } from 'drizzle-orm';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Database, Queryable } from '../db/client.ts';
import { sessions } from '../db/schema.ts';
import type { AppEnv } from '../http/app-env.ts';
import { clientIp } from '../limits/rate-limit.ts';
import { randomToken, sha256Hex } from './tokens.ts';

/** A session unused this long ends (sliding: each use moves it forward)… */
export const SESSION_IDLE_TTL_MS = 14 * 24 * 3600 * 1000;
/** …and every session ends this long after sign-in, however busy: a stolen cookie cannot live on forever. */
export const SESSION_MAX_AGE_MS = 30 * 24 * 3600 * 1000;
/** Sliding expiry is written at most this often, so reads stay reads. */
const SLIDE_EVERY_MS = 3600 * 1000;

/** What `randomToken()` makes: 32 random bytes, base64url. */
const SESSION_TOKEN_SHAPE = /^[\w-]{43}$/;

/** `__Host-` pins the cookie to our origin over HTTPS; plain-HTTP local dev cannot use it. */
function cookieName(c: Context<AppEnv>): string {
  return isHttps(c) ? '__Host-pw_session' : 'pw_session';
}

function isHttps(c: Context<AppEnv>): boolean {
  return new URL(c.req.url).protocol === 'https:';
}

export function readSessionToken(c: Context<AppEnv>): string | undefined {
  return getCookie(c, cookieName(c));
}

function writeCookie(c: Context<AppEnv>, token: string, expiresAt: Date): void {
  setCookie(c, cookieName(c), token, {
    httpOnly: true,
    secure: isHttps(c),
    sameSite: 'Lax',
    path: '/',
    expires: expiresAt,
  });
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, cookieName(c), { path: '/', secure: isHttps(c) });
}

/** Creates a session row (token stored hashed) and sets the cookie. */
export async function startSession(
  c: Context<AppEnv>,
  database: Database,
  userId: string,
  tenantId: string,
): Promise<void> {
  const token = randomToken();
  const expiresAt = new Date(Date.now() + SESSION_IDLE_TTL_MS);
  await database.insert(sessions).values({
    tokenHash: await sha256Hex(token),
    userId,
    activeTenantId: tenantId,
    expiresAt,
    ipAddress: clientIp(c.req.raw),
    userAgent: c.req.header('User-Agent')?.slice(0, 300) ?? null,
  });
  writeCookie(c, token, expiresAt);
}

export interface ActiveSession {
  id: string;
  userId: string;
  activeTenantId: string | null;
}

/**
 * The live session behind the cookie, its expiry slid forward (never past its absolute end);
 * undefined when absent, idle too long, past its maximum age, or revoked.
 */
export async function findSession(c: Context<AppEnv>, database: Database): Promise<ActiveSession | undefined> {
  const token = readSessionToken(c);
  // Only something shaped like our tokens (32 random bytes, base64url) is worth a database lookup.
  if (!token || !SESSION_TOKEN_SHAPE.test(token)) return undefined;
  const now = new Date();
  const [row] = await database
    .select()
    .from(sessions)
    .where(
      and(
        eq(sessions.tokenHash, await sha256Hex(token)),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, now),
        gt(sessions.createdAt, new Date(now.getTime() - SESSION_MAX_AGE_MS)),
      ),
    )
    .limit(1);
  if (!row) return undefined;
  if (now.getTime() - row.lastSeenAt.getTime() > SLIDE_EVERY_MS) {
    const expiresAt = new Date(
      Math.min(now.getTime() + SESSION_IDLE_TTL_MS, row.createdAt.getTime() + SESSION_MAX_AGE_MS),
    );
    await database.update(sessions).set({ lastSeenAt: now, expiresAt }).where(eq(sessions.id, row.id));
    writeCookie(c, token, expiresAt);
  }
  return { id: row.id, userId: row.userId, activeTenantId: row.activeTenantId };
}

/** Ends the user's sessions (all, or all but one); closing their live sockets is the caller's part. */
export async function revokeSessionRows(database: Queryable, userId: string, keepSessionId?: string): Promise<void> {
  await database
    .update(sessions)
    .set({ revokedAt: new Date() })
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        ...(keepSessionId ? [ne(sessions.id, keepSessionId)] : []),
      ),
    );
}
