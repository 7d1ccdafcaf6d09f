import {
  AcceptedResponse,
  CreateOrganizationRequest,
  MeResponse,
  OrganizationSummary,
  SwitchOrganizationRequest,
} from '@pulsewire/protocol';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { requireCaller, resolveUser, sessionCaller } from '../auth/caller.ts';
import { buildMe } from '../auth/me.ts';
import { createAnotherOrganization, listOrganizations } from '../auth/organizations.ts';
import { sessions } from '../db/schema.ts';
import { softDeleteOrganization } from '../deletion/organization.ts';
import { db } from '../http/database.ts';
import { HttpError, notFound } from '../http/errors.ts';
import { jsonRoute, router } from '../http/route.ts';
import { enforceRateLimit, RATE_LIMITS } from '../limits/rate-limit.ts';
import { disconnectLive } from '../tenant/disconnect.ts';

const tags = ['organisation'];

export const organizationRoutes = router()
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/organizations',
      summary: 'Organisations you belong to',
      tags,
      response: z.object({ organizations: z.array(OrganizationSummary) }),
      status: 200,
    }),
    async (c) => {
      const user = await resolveUser(c);
      return c.json({ organizations: await listOrganizations(db(c), user.userId) }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/organizations',
      summary: 'Create an organisation you own and switch to it',
      tags,
      body: CreateOrganizationRequest,
      response: MeResponse,
      status: 201,
    }),
    async (c) => {
      const user = await resolveUser(c);
      const { name } = c.req.valid('json');
      await enforceRateLimit(c.env, RATE_LIMITS.organizationCreate, [`org-create:${user.userId}`]);
      const database = db(c);
      const tenant = await database.transaction((tx) => createAnotherOrganization(tx, name, user.userId));
      await database.update(sessions).set({ activeTenantId: tenant.id }).where(eq(sessions.id, user.sessionId));
      return c.json(await buildMe(database, user.userId, tenant.id), 201);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/organizations/switch',
      summary: 'Work in another organisation you belong to',
      tags,
      body: SwitchOrganizationRequest,
      response: MeResponse,
      status: 200,
    }),
    async (c) => {
      const user = await resolveUser(c);
      const { organizationId } = c.req.valid('json');
      const database = db(c);
      const mine = await listOrganizations(database, user.userId);
      if (!mine.some((o) => o.id === organizationId)) throw notFound('No such organisation');
      await database.update(sessions).set({ activeTenantId: organizationId }).where(eq(sessions.id, user.sessionId));
      return c.json(await buildMe(database, user.userId, organizationId), 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'delete',
      path: '/organizations/current',
      summary: 'Delete the current organisation and all of its data (owners only)',
      tags,
      response: AcceptedResponse,
      status: 200,
      middleware: [requireCaller('owner')],
    }),
    async (c) => {
      const actor = sessionCaller(c);
      const database = db(c);
      const mine = await listOrganizations(database, actor.userId);
      if (mine.length <= 1) {
        throw new HttpError(409, 'only_organization', 'This is your only organisation: create another one first');
      }
      // Marked deleted in a few small statements; its history is purged later in bounded chunks.
      const lost = await softDeleteOrganization(database, actor.tenantId);
      const next = mine.find((o) => o.id !== actor.tenantId);
      await database
        .update(sessions)
        .set({ activeTenantId: next?.id ?? null })
        .where(eq(sessions.id, actor.sessionId));
      for (const userId of lost.userIds) {
        await disconnectLive(c, [actor.tenantId], { kind: 'user', id: userId }, 'organisation deleted');
      }
      for (const keyId of lost.keyIds) {
        await disconnectLive(c, [actor.tenantId], { kind: 'key', id: keyId }, 'organisation deleted');
      }
      return c.json({ ok: true as const, message: 'Organisation deleted' }, 200);
    },
  );
