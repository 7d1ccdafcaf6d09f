import {
  AcceptedResponse,
  AcceptInvitationRequest,
  InvitationList,
  InvitationRequest,
  MeResponse,
} from '@pulsewire/protocol';
import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import { caller, emailUnverified, requireCaller, sessionCaller } from '../auth/caller.ts';
import { buildMe } from '../auth/me.ts';
import { hashPassword } from '../auth/password.ts';
import { findSession, startSession } from '../auth/session.ts';
import { randomToken, sha256Hex } from '../auth/tokens.ts';
import type { Transaction } from '../db/client.ts';
import { invitations, memberships, sessions, tenants, users } from '../db/schema.ts';
import { db } from '../http/database.ts';
import { HttpError, notFound } from '../http/errors.ts';
import { jsonRoute, router } from '../http/route.ts';
import { enforceRateLimit, ipSubject, RATE_LIMITS } from '../limits/rate-limit.ts';
import { mailAfterResponse } from '../mail/after-response.ts';
import { invitationMessage } from '../mail/templates.ts';
import { publicOrigin } from './auth.ts';
import { IdParam } from './params.ts';

const tags = ['organisation'];
const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

type InvitationRow = typeof invitations.$inferSelect;
const present = (i: InvitationRow) => ({
  id: i.id,
  email: i.email,
  role: i.role,
  createdAt: i.createdAt.toISOString(),
  expiresAt: i.expiresAt.toISOString(),
});

/** The signed-in user may accept only an invitation to their own address. */
async function signedInInvitee(tx: Transaction, userId: string, invited: string): Promise<string> {
  const [user] = await tx
    .select({ email: users.email, verifiedAt: users.emailVerifiedAt })
    .from(users)
    .where(eq(users.id, userId))
    .limit(1);
  if (!user || user.email !== invited) {
    throw new HttpError(403, 'invitation_email_mismatch', `This invitation is for ${invited}; sign in as that address`);
  }
  if (!user.verifiedAt) throw emailUnverified();
  return userId;
}

/** Without a session, the link creates the invited address's account (the link proves the mailbox). */
async function newInvitee(
  tx: Transaction,
  invited: string,
  name: string | undefined,
  passwordHash: string | undefined,
): Promise<string> {
  const signIn = () => new HttpError(401, 'sign_in_required', `Sign in as ${invited} to accept this invitation`);
  const [existing] = await tx.select({ id: users.id }).from(users).where(eq(users.email, invited)).limit(1);
  if (existing) throw signIn();
  if (!passwordHash) {
    throw new HttpError(422, 'validation_failed', 'Choose a password to create your account', {
      path: 'json.password',
    });
  }
  const [created] = await tx
    .insert(users)
    .values({ email: invited, name: name ?? null, passwordHash, emailVerifiedAt: new Date() })
    .onConflictDoNothing({ target: users.email })
    .returning({ id: users.id });
  // Someone signed up with the address since the check above.
  if (!created) throw signIn();
  return created.id;
}

export const invitationRoutes = router()
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/invitations',
      summary: 'Pending invitations',
      tags,
      response: InvitationList,
      status: 200,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const rows = await db(c)
        .select()
        .from(invitations)
        .where(
          and(
            eq(invitations.tenantId, caller(c).tenantId),
            isNull(invitations.acceptedAt),
            isNull(invitations.revokedAt),
            gt(invitations.expiresAt, new Date()),
          ),
        )
        .orderBy(desc(invitations.createdAt));
      return c.json({ invitations: rows.map(present) }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/invitations',
      summary: 'Invite someone by e-mail',
      tags,
      body: InvitationRequest,
      response: InvitationList.shape.invitations.element,
      status: 201,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const actor = sessionCaller(c);
      const { email, role } = c.req.valid('json');
      await enforceRateLimit(c.env, RATE_LIMITS.invitation, [`invite:${actor.tenantId}`]);
      const database = db(c);
      const [existing] = await database
        .select({ userId: memberships.userId })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(and(eq(memberships.tenantId, actor.tenantId), eq(users.email, email)))
        .limit(1);
      if (existing) throw new HttpError(409, 'already_member', `${email} is already a member`, { path: 'email' });
      const token = randomToken();
      const [row] = await database
        .insert(invitations)
        .values({
          tenantId: actor.tenantId,
          email,
          role,
          tokenHash: await sha256Hex(token),
          invitedBy: actor.userId,
          expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
        })
        .returning();
      const [tenant] = await database
        .select({ name: tenants.name })
        .from(tenants)
        .where(eq(tenants.id, actor.tenantId));
      if (!row || !tenant) throw new Error('invitation insert returned nothing');
      const link = `${publicOrigin(c)}/invitations/accept?token=${token}`;
      mailAfterResponse(c, email, invitationMessage(link, tenant.name, actor.email, role));
      return c.json(present(row), 201);
    },
  )
  .openapi(
    jsonRoute({
      method: 'delete',
      path: '/invitations/{id}',
      summary: 'Revoke a pending invitation',
      tags,
      params: IdParam,
      response: AcceptedResponse,
      status: 200,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const [revoked] = await db(c)
        .update(invitations)
        .set({ revokedAt: new Date() })
        .where(
          and(eq(invitations.id, id), eq(invitations.tenantId, caller(c).tenantId), isNull(invitations.acceptedAt)),
        )
        .returning({ id: invitations.id });
      if (!revoked) throw notFound('No such invitation');
      return c.json({ ok: true as const, message: 'Invitation revoked' }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/invitations/accept',
      summary: 'Accept an invitation: join as the signed-in user, or create an account with a password',
      tags,
      body: AcceptInvitationRequest,
      response: MeResponse,
      status: 200,
    }),
    async (c) => {
      const input = c.req.valid('json');
      await enforceRateLimit(c.env, RATE_LIMITS.linkToken, [`link:ip:${ipSubject(c.req.raw)}`]);
      const database = db(c);
      const tokenHash = await sha256Hex(input.token);
      const session = await findSession(c, database);
      // Hashed before the transaction, so the invitation's row lock is held for queries only.
      const passwordHash = !session && input.password ? await hashPassword(input.password) : undefined;
      // One transaction under the invitation's row lock: a second accept of the same link waits, then
      // finds it accepted. Nothing is half-done, e.g. an account created without its membership.
      const { userId, tenantId } = await database.transaction(async (tx) => {
        const [invitation] = await tx
          .select()
          .from(invitations)
          .where(eq(invitations.tokenHash, tokenHash))
          .limit(1)
          .for('update');
        if (!invitation) throw new HttpError(400, 'token_invalid', 'This invitation link is not valid');
        if (invitation.revokedAt) throw new HttpError(400, 'invitation_revoked', 'This invitation was withdrawn');
        if (invitation.acceptedAt) throw new HttpError(400, 'token_used', 'This invitation has already been accepted');
        if (invitation.expiresAt.getTime() < Date.now()) {
          throw new HttpError(400, 'token_expired', 'This invitation has expired; ask for a new one');
        }
        const joining = session
          ? await signedInInvitee(tx, session.userId, invitation.email)
          : await newInvitee(tx, invitation.email, input.name, passwordHash);
        await tx.update(invitations).set({ acceptedAt: new Date() }).where(eq(invitations.id, invitation.id));
        await tx
          .insert(memberships)
          .values({ tenantId: invitation.tenantId, userId: joining, role: invitation.role })
          .onConflictDoNothing();
        return { userId: joining, tenantId: invitation.tenantId };
      });
      if (session) {
        await database.update(sessions).set({ activeTenantId: tenantId }).where(eq(sessions.id, session.id));
      } else {
        await startSession(c, database, userId, tenantId);
      }
      return c.json(await buildMe(database, userId, tenantId), 200);
    },
  );
