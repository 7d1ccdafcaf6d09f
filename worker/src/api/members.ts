import { AcceptedResponse, MemberList, type Role, UpdateMemberRequest } from '@pulsewire/protocol';
import { and, asc, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { caller, requireCaller, roleAtLeast, sessionCaller } from '../auth/caller.ts';
import type { Queryable, Transaction } from '../db/client.ts';
import { memberships, tenants, users } from '../db/schema.ts';
import type { AppEnv } from '../http/app-env.ts';
import { db } from '../http/database.ts';
import { HttpError, notFound } from '../http/errors.ts';
import { jsonRoute, router } from '../http/route.ts';
import { disconnectLive } from '../tenant/disconnect.ts';
import { IdParam } from './params.ts';

const tags = ['organisation'];

async function membershipOf(database: Queryable, tenantId: string, userId: string) {
  const [row] = await database
    .select()
    .from(memberships)
    .where(and(eq(memberships.tenantId, tenantId), eq(memberships.userId, userId)))
    .limit(1);
  return row;
}

async function ownerCount(database: Queryable, tenantId: string): Promise<number> {
  const owners = await database
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.tenantId, tenantId), eq(memberships.role, 'owner')));
  return owners.length;
}

/** Only owners may touch owners; admins manage admins and viewers. */
function assertMayManage(actorRole: Role | undefined, targetRole: Role, newRole?: Role) {
  if (!roleAtLeast(actorRole, 'admin')) {
    throw new HttpError(403, 'insufficient_role', 'This action needs the admin role');
  }
  if ((targetRole === 'owner' || newRole === 'owner') && !roleAtLeast(actorRole, 'owner')) {
    throw new HttpError(403, 'insufficient_role', 'Only an owner can change or remove owners');
  }
}

/**
 * Runs a membership change with the organisation's row locked, re-reading the roles involved under
 * the lock: two owners demoting (or removing) each other at once are applied one after the other,
 * so the second sees the first's result and the organisation keeps an owner.
 */
function withMembersLocked<T>(c: Context<AppEnv>, tenantId: string, change: (tx: Transaction) => Promise<T>) {
  return db(c).transaction(async (tx) => {
    await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenantId)).for('update');
    return change(tx);
  });
}

const lastOwner = () =>
  new HttpError(409, 'last_owner', 'An organisation needs an owner: make someone else owner first');

export const memberRoutes = router()
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/members',
      summary: 'Members of the organisation',
      tags,
      response: MemberList,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const rows = await db(c)
        .select({
          userId: users.id,
          email: users.email,
          name: users.name,
          role: memberships.role,
          joinedAt: memberships.createdAt,
        })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(eq(memberships.tenantId, caller(c).tenantId))
        .orderBy(asc(memberships.createdAt));
      return c.json({ members: rows.map((m) => ({ ...m, joinedAt: m.joinedAt.toISOString() })) }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'patch',
      path: '/members/{id}',
      summary: 'Change a member’s role',
      tags,
      params: IdParam,
      body: UpdateMemberRequest,
      response: AcceptedResponse,
      status: 200,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { role } = c.req.valid('json');
      const actor = sessionCaller(c);
      await withMembersLocked(c, actor.tenantId, async (tx) => {
        const target = await membershipOf(tx, actor.tenantId, id);
        if (!target) throw notFound('No such member');
        assertMayManage((await membershipOf(tx, actor.tenantId, actor.userId))?.role, target.role, role);
        if (target.role === 'owner' && role !== 'owner' && (await ownerCount(tx, actor.tenantId)) <= 1) {
          throw lastOwner();
        }
        await tx
          .update(memberships)
          .set({ role })
          .where(and(eq(memberships.tenantId, actor.tenantId), eq(memberships.userId, id)));
      });
      return c.json({ ok: true as const, message: `Role changed to ${role}` }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'delete',
      path: '/members/{id}',
      summary: 'Remove a member (or leave, with your own id)',
      tags,
      params: IdParam,
      response: AcceptedResponse,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const actor = sessionCaller(c);
      const leaving = id === actor.userId;
      await withMembersLocked(c, actor.tenantId, async (tx) => {
        const target = await membershipOf(tx, actor.tenantId, id);
        if (!target) throw notFound('No such member');
        if (!leaving) assertMayManage((await membershipOf(tx, actor.tenantId, actor.userId))?.role, target.role);
        if (target.role === 'owner' && (await ownerCount(tx, actor.tenantId)) <= 1) throw lastOwner();
        await tx.delete(memberships).where(and(eq(memberships.tenantId, actor.tenantId), eq(memberships.userId, id)));
      });
      await disconnectLive(c, [actor.tenantId], { kind: 'user', id }, leaving ? 'left the organisation' : 'removed');
      return c.json({ ok: true as const, message: leaving ? 'You left the organisation' : 'Member removed' }, 200);
    },
  );
