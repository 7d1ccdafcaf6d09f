import {
  AcceptedResponse,
  ChangeEmailRequest,
  ChangePasswordRequest,
  ForgotPasswordRequest,
  LoginRequest,
  MeResponse,
  ResetPasswordRequest,
  SignupRequest,
  VerifyEmailRequest,
} from '@pulsewire/protocol';
import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { requireCaller, sessionCaller } from '../auth/caller.ts';
import { consumeEmailToken, issueEmailToken, revokeEmailTokens } from '../auth/email-tokens.ts';
import { buildMe } from '../auth/me.ts';
import { createOrganization, listOrganizations } from '../auth/organizations.ts';
import { burnVerificationTime, hashPassword, needsRehash, verifyPassword } from '../auth/password.ts';
import { clearSessionCookie, findSession, revokeSessionRows, startSession } from '../auth/session.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { sessions, users } from '../db/schema.ts';
import { parseConfig } from '../env.ts';
import type { AppEnv } from '../http/app-env.ts';
import { db } from '../http/database.ts';
import { HttpError } from '../http/errors.ts';
import { jsonRoute, router } from '../http/route.ts';
import { enforceRateLimit, ipSubject, RATE_LIMITS } from '../limits/rate-limit.ts';
import { afterResponse, mailAfterResponse } from '../mail/after-response.ts';
import { sendMail } from '../mail/mailer.ts';
import {
  changeEmailMessage,
  emailChangedMessage,
  existingAccountMessage,
  resetPasswordMessage,
  verifyEmailMessage,
} from '../mail/templates.ts';
import { disconnectUserEverywhere } from '../tenant/disconnect.ts';

const tags = ['accounts'];

/** Links in e-mails point at the dashboard's own origin unless PUBLIC_URL says otherwise. */
export function publicOrigin(c: Context<AppEnv>): string {
  return parseConfig(c.env).PUBLIC_URL?.replace(/\/$/, '') ?? new URL(c.req.url).origin;
}

const invalidCredentials = () => new HttpError(401, 'invalid_credentials', 'E-mail or password is incorrect');
const accepted = (message: string) => ({ ok: true as const, message });

/** Revokes the user's sessions (all, or all but one) and closes their live sockets. */
async function revokeSessions(c: Context<AppEnv>, userId: string, keepSessionId?: string) {
  await revokeSessionRows(db(c), userId, keepSessionId);
  await disconnectUserEverywhere(c, userId, 'sessions revoked');
}

/** A fresh verification link for an unverified account, at most `emailChange`'s rate per account. */
async function sendVerificationLink(c: Context<AppEnv>, userId: string, email: string): Promise<void> {
  await enforceRateLimit(c.env, RATE_LIMITS.emailChange, [`verify-resend:${userId}`]);
  const token = await issueEmailToken(db(c), userId, 'verify_email', email);
  mailAfterResponse(c, email, verifyEmailMessage(`${publicOrigin(c)}/verify?token=${token}`));
}

type Verified = { kind: 'verified'; userId: string } | { kind: 'changed'; userId: string; oldEmail: string };

/**
 * Applies an e-mailed verification or address-change link in one transaction. A change makes the
 * new address the account's (the unique index decides between two accounts racing for it), and
 * ends everything the old address could still do: every outstanding link and every session.
 */
async function applyEmailToken(c: Context<AppEnv>, token: string): Promise<Verified> {
  try {
    return await db(c).transaction(async (tx) => {
      const row = await consumeEmailToken(tx, token, ['verify_email', 'change_email']);
      const now = new Date();
      if (row.purpose === 'verify_email') {
        // Only for the address it was sent to: a link to a former address verifies nothing.
        const [verified] = await tx
          .update(users)
          .set({ emailVerifiedAt: now, updatedAt: now })
          .where(and(eq(users.id, row.userId), eq(users.email, row.email)))
          .returning({ id: users.id });
        if (!verified) throw new HttpError(400, 'token_invalid', 'This link is not valid');
        return { kind: 'verified', userId: row.userId };
      }
      const [before] = await tx
        .select({ email: users.email })
        .from(users)
        .where(eq(users.id, row.userId))
        .for('update');
      if (!before) throw new HttpError(400, 'token_invalid', 'This link is not valid');
      await tx
        .update(users)
        .set({ email: row.email, emailVerifiedAt: now, updatedAt: now })
        .where(eq(users.id, row.userId));
      await revokeEmailTokens(tx, row.userId);
      await revokeSessionRows(tx, row.userId);
      return { kind: 'changed', userId: row.userId, oldEmail: before.email };
    });
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_key')) {
      throw new HttpError(409, 'email_taken', 'Another account uses this address');
    }
    throw error;
  }
}

export const authRoutes = router()
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/auth/signup',
      summary: 'Create an account and its organisation; a verification link is e-mailed',
      tags,
      body: SignupRequest,
      response: AcceptedResponse,
      status: 201,
    }),
    async (c) => {
      const input = c.req.valid('json');
      await Promise.all([
        enforceRateLimit(c.env, RATE_LIMITS.signup, [`signup:ip:${ipSubject(c.req.raw)}`]),
        // Every sign-up mails the address (a link, or "you already have an account"): cap it per recipient.
        enforceRateLimit(c.env, RATE_LIMITS.signupRecipient, [`signup:to:${input.email}`]),
      ]);
      const config = parseConfig(c.env);
      const origin = publicOrigin(c);
      // Everything that depends on the address happens after the answer, so a taken address and a
      // new one take the same time. Account, organisation, link and mail still succeed or fail
      // together: a failed send leaves nothing behind (and signing up again starts afresh).
      afterResponse(c, 'signup', async (database) => {
        const passwordHash = await hashPassword(input.password);
        await database.transaction(async (tx) => {
          const [user] = await tx
            .insert(users)
            .values({ email: input.email, name: input.name ?? null, passwordHash })
            .onConflictDoNothing({ target: users.email })
            .returning({ id: users.id });
          if (!user) {
            await sendMail(config, tx, input.email, existingAccountMessage(`${origin}/login`));
            return;
          }
          const orgName = input.organizationName ?? `${input.name ?? input.email.split('@')[0]}'s organisation`;
          await createOrganization(tx, orgName, user.id);
          const token = await issueEmailToken(tx, user.id, 'verify_email', input.email);
          await sendMail(config, tx, input.email, verifyEmailMessage(`${origin}/verify?token=${token}`));
        });
      });
      // The same answer for new and taken addresses: sign-up never reveals who has an account.
      return c.json(accepted('Check your inbox: we sent you a link to verify your address and sign in.'), 201);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/auth/login',
      summary: 'Sign in with e-mail and password',
      tags,
      body: LoginRequest,
      response: MeResponse,
      status: 200,
    }),
    async (c) => {
      const input = c.req.valid('json');
      const ip = ipSubject(c.req.raw);
      const wording = (retryAfter: string) =>
        `Too many sign-in attempts: try again in ${retryAfter}, or reset your password`;
      await Promise.all([
        enforceRateLimit(c.env, RATE_LIMITS.loginPair, [`login:pair:${input.email}|${ip}`], wording),
        enforceRateLimit(c.env, RATE_LIMITS.loginIp, [`login:ip:${ip}`], wording),
        enforceRateLimit(c.env, RATE_LIMITS.loginAccount, [`login:account:${input.email}`], wording),
      ]);
      const database = db(c);
      const [user] = await database.select().from(users).where(eq(users.email, input.email)).limit(1);
      if (!user) {
        await burnVerificationTime(input.password);
        throw invalidCredentials();
      }
      if (!(await verifyPassword(input.password, user.passwordHash))) throw invalidCredentials();
      if (!user.emailVerifiedAt) {
        // No session before the address is proven (see emailUnverified); the password is, so the
        // owner gets a fresh link, as often as the resend limit allows.
        await sendVerificationLink(c, user.id, user.email).catch((error: unknown) => {
          if (!(error instanceof HttpError && error.status === 429)) throw error;
        });
        throw new HttpError(
          403,
          'email_unverified',
          'Verify your e-mail address first: we sent a new link to it (the newest link works)',
        );
      }
      if (needsRehash(user.passwordHash)) {
        await database
          .update(users)
          .set({ passwordHash: await hashPassword(input.password) })
          .where(eq(users.id, user.id));
      }
      const [first] = await listOrganizations(database, user.id);
      if (!first) throw new HttpError(403, 'no_organization', 'You are not a member of any organisation');
      await startSession(c, database, user.id, first.id);
      return c.json(await buildMe(database, user.id, first.id), 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/auth/logout',
      summary: 'Sign out of this session',
      tags,
      response: AcceptedResponse,
      status: 200,
    }),
    async (c) => {
      const session = await findSession(c, db(c));
      if (session) {
        await db(c).update(sessions).set({ revokedAt: new Date() }).where(eq(sessions.id, session.id));
        // Sockets are tagged by user, not session: this closes the user's other tabs' sockets too, and
        // those whose session is still valid reconnect (the dashboard checks /me on 4001).
        await disconnectUserEverywhere(c, session.userId, 'signed out');
      }
      clearSessionCookie(c);
      return c.json(accepted('Signed out'), 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/auth/logout-all',
      summary: 'Sign out of every session of this account',
      tags,
      response: AcceptedResponse,
      status: 200,
      middleware: [requireCaller('viewer', { allowUnverified: true })],
    }),
    async (c) => {
      await revokeSessions(c, sessionCaller(c).userId);
      clearSessionCookie(c);
      return c.json(accepted('Signed out everywhere'), 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/auth/verify',
      summary:
        'Confirm an e-mail address from an e-mailed link (a verification link signs in; an address change signs everyone out)',
      tags,
      body: VerifyEmailRequest,
      response: AcceptedResponse,
      status: 200,
    }),
    async (c) => {
      const { token } = c.req.valid('json');
      await enforceRateLimit(c.env, RATE_LIMITS.linkToken, [`link:ip:${ipSubject(c.req.raw)}`]);
      const outcome = await applyEmailToken(c, token);
      const database = db(c);
      if (outcome.kind === 'changed') {
        // The change link proves the new mailbox, not who holds it: it never signs anyone in.
        await disconnectUserEverywhere(c, outcome.userId, 'e-mail address changed');
        clearSessionCookie(c);
        const [user] = await database.select({ email: users.email }).from(users).where(eq(users.id, outcome.userId));
        mailAfterResponse(c, outcome.oldEmail, emailChangedMessage(user?.email ?? '', `${publicOrigin(c)}/login`));
        return c.json(accepted('Your new address is confirmed. Sign in with it.'), 200);
      }
      if (!(await findSession(c, database))) {
        const [first] = await listOrganizations(database, outcome.userId);
        if (first) await startSession(c, database, outcome.userId, first.id);
      }
      return c.json(accepted('Your address is verified'), 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/auth/verify/resend',
      summary: 'Send the verification link again',
      tags,
      response: AcceptedResponse,
      status: 202,
      middleware: [requireCaller('viewer', { allowUnverified: true })],
    }),
    async (c) => {
      const me = sessionCaller(c);
      const [user] = await db(c).select().from(users).where(eq(users.id, me.userId)).limit(1);
      if (user && !user.emailVerifiedAt) await sendVerificationLink(c, user.id, user.email);
      return c.json(accepted('If your address is not verified yet, a new link is on its way'), 202);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/auth/password/forgot',
      summary: 'E-mail a password reset link',
      tags,
      body: ForgotPasswordRequest,
      response: AcceptedResponse,
      status: 202,
    }),
    async (c) => {
      const { email } = c.req.valid('json');
      await enforceRateLimit(c.env, RATE_LIMITS.passwordReset, [
        `reset:ip:${ipSubject(c.req.raw)}`,
        `reset:account:${email}`,
      ]);
      const config = parseConfig(c.env);
      const origin = publicOrigin(c);
      // Looked up after the answer: a known address and an unknown one take the same time.
      afterResponse(c, 'reset_password', async (database) => {
        const [user] = await database.select({ id: users.id }).from(users).where(eq(users.email, email)).limit(1);
        if (!user) return;
        const token = await issueEmailToken(database, user.id, 'reset_password', email);
        await sendMail(config, database, email, resetPasswordMessage(`${origin}/reset-password?token=${token}`));
      });
      return c.json(accepted('If an account uses this address, a reset link is on its way'), 202);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/auth/password/reset',
      summary: 'Set a new password from a reset link; signs out every other session',
      tags,
      body: ResetPasswordRequest,
      response: MeResponse,
      status: 200,
    }),
    async (c) => {
      const { token, password } = c.req.valid('json');
      await enforceRateLimit(c.env, RATE_LIMITS.linkToken, [`link:ip:${ipSubject(c.req.raw)}`]);
      const database = db(c);
      const passwordHash = await hashPassword(password);
      // A reset is for when the account may be in someone else's hands: whatever was started with
      // the old password (sessions, a pending address change, any other link) ends with it.
      const row = await database.transaction(async (tx) => {
        const claimed = await consumeEmailToken(tx, token, ['reset_password']);
        const now = new Date();
        // Receiving the link proves the address, so it also counts as verification.
        const [reset] = await tx
          .update(users)
          .set({ passwordHash, emailVerifiedAt: now, updatedAt: now })
          .where(and(eq(users.id, claimed.userId), eq(users.email, claimed.email)))
          .returning({ id: users.id });
        if (!reset) throw new HttpError(400, 'token_invalid', 'This link is not valid');
        await revokeEmailTokens(tx, claimed.userId);
        await revokeSessionRows(tx, claimed.userId);
        return claimed;
      });
      await disconnectUserEverywhere(c, row.userId, 'password reset');
      const [first] = await listOrganizations(database, row.userId);
      if (!first) throw new HttpError(403, 'no_organization', 'You are not a member of any organisation');
      await startSession(c, database, row.userId, first.id);
      return c.json(await buildMe(database, row.userId, first.id), 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/auth/password/change',
      summary: 'Change the password; signs out every other session',
      tags,
      body: ChangePasswordRequest,
      response: AcceptedResponse,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const me = sessionCaller(c);
      const { currentPassword, newPassword } = c.req.valid('json');
      await enforceRateLimit(c.env, RATE_LIMITS.passwordChange, [`password-change:${me.userId}`]);
      const database = db(c);
      const [user] = await database.select().from(users).where(eq(users.id, me.userId)).limit(1);
      if (!user || !(await verifyPassword(currentPassword, user.passwordHash))) {
        throw new HttpError(403, 'invalid_credentials', 'The current password is incorrect', {
          path: 'currentPassword',
        });
      }
      await database
        .update(users)
        .set({ passwordHash: await hashPassword(newPassword), updatedAt: new Date() })
        .where(eq(users.id, me.userId));
      // Links mailed under the old password (a pending address change above all) end with it.
      await revokeEmailTokens(database, me.userId);
      await revokeSessions(c, me.userId, me.sessionId);
      return c.json(accepted('Password changed; other sessions were signed out'), 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/auth/email/change',
      summary: 'Change the e-mail address; takes effect when the link sent to the new address is opened',
      tags,
      body: ChangeEmailRequest,
      response: AcceptedResponse,
      status: 202,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const me = sessionCaller(c);
      const { newEmail, password } = c.req.valid('json');
      await enforceRateLimit(c.env, RATE_LIMITS.emailChange, [`email-change:${me.userId}`]);
      const database = db(c);
      const [user] = await database.select().from(users).where(eq(users.id, me.userId)).limit(1);
      if (!user || !(await verifyPassword(password, user.passwordHash))) {
        throw new HttpError(403, 'invalid_credentials', 'The password is incorrect', { path: 'password' });
      }
      const token = await issueEmailToken(database, me.userId, 'change_email', newEmail);
      mailAfterResponse(c, newEmail, changeEmailMessage(`${publicOrigin(c)}/verify?token=${token}`));
      return c.json(accepted(`We sent a confirmation link to ${newEmail}`), 202);
    },
  )
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/me',
      summary: 'The signed-in user and organisations',
      tags,
      response: MeResponse,
      status: 200,
      middleware: [requireCaller('viewer', { allowUnverified: true })],
    }),
    async (c) => {
      const me = sessionCaller(c);
      return c.json(await buildMe(db(c), me.userId, me.tenantId), 200);
    },
  );
