import { and, eq, isNull } from 'drizzle-orm';
import type { Queryable } from '../db/client.ts';
import { emailTokens } from '../db/schema.ts';
import { HttpError } from '../http/errors.ts';
import { randomToken, sha256Hex } from './tokens.ts';

type Purpose = 'verify_email' | 'reset_password' | 'change_email';

const TTL_MS: Record<Purpose, number> = {
  verify_email: 24 * 3600 * 1000,
  reset_password: 3600 * 1000,
  change_email: 24 * 3600 * 1000,
};

/** Issues a single-use link token; earlier unused tokens of the same purpose stop working. */
export async function issueEmailToken(database: Queryable, userId: string, purpose: Purpose, email: string) {
  const token = randomToken();
  await database
    .update(emailTokens)
    .set({ usedAt: new Date() })
    .where(and(eq(emailTokens.userId, userId), eq(emailTokens.purpose, purpose), isNull(emailTokens.usedAt)));
  await database.insert(emailTokens).values({
    userId,
    purpose,
    email,
    tokenHash: await sha256Hex(token),
    expiresAt: new Date(Date.now() + TTL_MS[purpose]),
  });
  return token;
}

/**
 * Every link still outstanding for the user stops working: after a password reset or a completed
 * e-mail change, a link mailed earlier (a pending address change above all) must not outlive it.
 */
export async function revokeEmailTokens(database: Queryable, userId: string): Promise<void> {
  await database
    .update(emailTokens)
    .set({ usedAt: new Date() })
    .where(and(eq(emailTokens.userId, userId), isNull(emailTokens.usedAt)));
}

/**
 * Marks the token used and returns it, atomically: of two concurrent uses only one succeeds.
 * Unknown, used and expired tokens are refused with distinct codes so the page can say why.
 */
export async function consumeEmailToken(database: Queryable, token: string, purposes: Purpose[]) {
  const tokenHash = await sha256Hex(token);
  const [row] = await database.select().from(emailTokens).where(eq(emailTokens.tokenHash, tokenHash)).limit(1);
  if (!row || !purposes.includes(row.purpose)) {
    throw new HttpError(400, 'token_invalid', 'This link is not valid');
  }
  if (row.usedAt) throw new HttpError(400, 'token_used', 'This link has already been used');
  if (row.expiresAt.getTime() < Date.now()) throw new HttpError(400, 'token_expired', 'This link has expired');
  const [claimed] = await database
    .update(emailTokens)
    .set({ usedAt: new Date() })
    .where(and(eq(emailTokens.id, row.id), isNull(emailTokens.usedAt)))
    .returning();
  if (!claimed) throw new HttpError(400, 'token_used', 'This link has already been used');
  return claimed;
}
