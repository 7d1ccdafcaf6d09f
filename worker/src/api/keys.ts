import { AcceptedResponse, API_KEY_PREFIX, ApiKeyList, CreateApiKeyRequest, CreatedApiKey } from '@pulsewire/protocol';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { caller, requireCaller } from '../auth/caller.ts';
import { randomToken, sha256Hex } from '../auth/tokens.ts';
import { apiKeys } from '../db/schema.ts';
import { db } from '../http/database.ts';
import { notFound } from '../http/errors.ts';
import { jsonRoute, router } from '../http/route.ts';
import { disconnectLive } from '../tenant/disconnect.ts';
import { IdParam } from './params.ts';

const tags = ['api keys'];
const PREFIX_LENGTH = API_KEY_PREFIX.length + 6;

type KeyRow = typeof apiKeys.$inferSelect;
const present = (k: KeyRow) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scope: k.scope,
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
});

export const keyRoutes = router()
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/keys',
      summary: 'List the organisation’s active API keys (never their secrets)',
      tags,
      response: ApiKeyList,
      status: 200,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const rows = await db(c)
        .select()
        .from(apiKeys)
        .where(and(eq(apiKeys.tenantId, caller(c).tenantId), isNull(apiKeys.revokedAt)))
        .orderBy(desc(apiKeys.createdAt));
      return c.json({ keys: rows.map(present) }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/keys',
      summary: 'Create an API key; the secret is in this response only',
      tags,
      body: CreateApiKeyRequest,
      response: CreatedApiKey,
      status: 201,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const { name, scope } = c.req.valid('json');
      const who = caller(c);
      const secret = `${API_KEY_PREFIX}${randomToken(24)}`;
      const [row] = await db(c)
        .insert(apiKeys)
        .values({
          tenantId: who.tenantId,
          name,
          scope,
          prefix: secret.slice(0, PREFIX_LENGTH),
          secretHash: await sha256Hex(secret),
          createdBy: who.kind === 'session' ? who.userId : null,
        })
        .returning();
      if (!row) throw new Error('api key insert returned nothing');
      return c.json({ key: present(row), secret }, 201);
    },
  )
  .openapi(
    jsonRoute({
      method: 'delete',
      path: '/keys/{id}',
      summary: 'Revoke an API key; agents and scripts using it are refused from now on',
      tags,
      params: IdParam,
      response: AcceptedResponse,
      status: 200,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const [revoked] = await db(c)
        .update(apiKeys)
        .set({ revokedAt: new Date() })
        .where(and(eq(apiKeys.id, id), eq(apiKeys.tenantId, caller(c).tenantId), isNull(apiKeys.revokedAt)))
        .returning({ id: apiKeys.id });
      if (!revoked) throw notFound('No such API key');
      await disconnectLive(c, [caller(c).tenantId], { kind: 'key', id: revoked.id }, 'API key revoked');
      return c.json({ ok: true as const, message: 'API key revoked' }, 200);
    },
  );
