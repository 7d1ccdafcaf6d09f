import {
  AcceptedResponse,
  Channel,
  type ChannelConfig,
  ChannelCreated,
  ChannelInput,
  ChannelList,
  ChannelPatch,
  ChannelTestResult,
  type Delivery,
  DeliveryList,
  DeliveryQuery,
  MAX_CHANNELS_PER_ORG,
} from '@pulsewire/protocol';
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import type { z } from 'zod';
import { caller, requireCaller } from '../auth/caller.ts';
import type { Queryable } from '../db/client.ts';
import { alertRules, notificationChannels, notificationDeliveries } from '../db/schema.ts';
import { parseConfig } from '../env.ts';
import type { AppEnv } from '../http/app-env.ts';
import { db } from '../http/database.ts';
import { HttpError, notFound } from '../http/errors.ts';
import { jsonRoute, router } from '../http/route.ts';
import { checkChannelTarget } from '../notify/targets.ts';
import { alertConfigChanged } from './alert-config.ts';
import { ensureRoom } from './alert-limits.ts';
import { publicOrigin } from './auth.ts';
import { IdParam } from './params.ts';

const tags = ['notification channels'];
const CHANNEL_LIMIT = { max: MAX_CHANNELS_PER_ORG, code: 'too_many_channels', noun: 'notification channels' };
/** After a rotation the old secret keeps signing this long, so receivers can switch without a gap. */
export const PREVIOUS_SECRET_TTL_MS = 24 * 3600 * 1000;

type ChannelRow = typeof notificationChannels.$inferSelect;

/** A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes. */
function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

/** The end of a secret, to recognise it by; the rest never leaves the server after it is shown once. */
const tail = (secret: string) => `…${secret.slice(-4)}`;

function presentConfig(row: ChannelRow): z.infer<typeof Channel>['config'] {
  const config = row.config;
  if (config.type === 'slack') {
    // The URL's path is the credential: show the host and its last characters only.
    const origin = URL.canParse(config.webhookUrl) ? new URL(config.webhookUrl).origin : '';
    return { type: 'slack', webhookUrlHint: `${origin}/${tail(config.webhookUrl)}` };
  }
  if (config.type === 'webhook') {
    return { type: 'webhook', url: config.url, secretHint: row.secret ? `whsec_${tail(row.secret)}` : '' };
  }
  return config;
}

type DeliveryRow = typeof notificationDeliveries.$inferSelect;

export function presentDelivery(d: DeliveryRow): z.infer<typeof Delivery> {
  return {
    id: d.id,
    channelId: d.channelId,
    kind: d.kind,
    status: d.status,
    attempts: d.attempts,
    latencyMs: d.latencyMs,
    lastError: d.lastError,
    lastStatus: d.lastStatus,
    alertId: d.alertIds[0] ?? null,
    alertIds: d.alertIds,
    createdAt: d.createdAt.toISOString(),
    sentAt: d.sentAt?.toISOString() ?? null,
  };
}

export function presentChannel(row: ChannelRow): z.infer<typeof Channel> {
  return {
    id: row.id,
    name: row.name,
    enabled: row.enabled,
    minLevel: row.minLevel,
    config: presentConfig(row),
    quietHours: row.quietHours ?? null,
    hourlyBudget: row.hourlyBudget,
    builtIn: row.builtIn,
    disabledReason: row.disabledReason,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Slack and webhook targets must be public https URLs (local mode: also loopback), else 422 `forbidden_target`. */
function assertAllowedTarget(c: Context<AppEnv>, config: ChannelConfig): void {
  const check = checkChannelTarget(config, { mode: parseConfig(c.env).PULSEWIRE_MODE });
  if (!check.ok) {
    const field = config.type === 'slack' ? 'webhookUrl' : 'url';
    throw new HttpError(422, check.code, `Not an allowed target: ${check.reason}`, { path: `json.config.${field}` });
  }
}

async function ownChannel(database: Queryable, tenantId: string, id: string): Promise<ChannelRow> {
  const [row] = await database
    .select()
    .from(notificationChannels)
    .where(and(eq(notificationChannels.id, id), eq(notificationChannels.tenantId, tenantId)))
    .limit(1);
  if (!row) throw notFound('No such notification channel');
  return row;
}

export const channelRoutes = router()
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/channels',
      summary: 'Notification channels of the organisation (Slack URLs and webhook secrets only as hints)',
      tags,
      response: ChannelList,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const rows = await db(c)
        .select()
        .from(notificationChannels)
        .where(eq(notificationChannels.tenantId, caller(c).tenantId))
        .orderBy(asc(notificationChannels.name), asc(notificationChannels.id));
      return c.json({ channels: rows.map(presentChannel) }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/channels',
      summary: `Create a notification channel (at most ${MAX_CHANNELS_PER_ORG}); a webhook's signing secret is in this response only`,
      tags,
      body: ChannelInput,
      response: ChannelCreated,
      status: 201,
      conflict: '`too_many_channels`: the organisation has the most channels it may have',
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const input = c.req.valid('json');
      const tenantId = caller(c).tenantId;
      assertAllowedTarget(c, input.config);
      const secret = input.config.type === 'webhook' ? newWebhookSecret() : null;
      const row = await db(c).transaction(async (tx) => {
        await ensureRoom(tx, tenantId, CHANNEL_LIMIT, () =>
          tx.$count(notificationChannels, eq(notificationChannels.tenantId, tenantId)),
        );
        const [inserted] = await tx
          .insert(notificationChannels)
          .values({ tenantId, type: input.config.type, ...input, secret })
          .returning();
        return inserted;
      });
      if (!row) throw new Error('channel insert returned nothing');
      await alertConfigChanged(c, tenantId);
      return c.json({ channel: presentChannel(row), ...(secret ? { secret } : {}) }, 201);
    },
  )
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/channels/{id}',
      summary: 'One notification channel',
      tags,
      params: IdParam,
      response: Channel,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => c.json(presentChannel(await ownChannel(db(c), caller(c).tenantId, c.req.valid('param').id)), 200),
  )
  .openapi(
    jsonRoute({
      method: 'patch',
      path: '/channels/{id}',
      summary:
        'Change a notification channel: the fields given; a `config` is replaced whole and keeps its type. Editing the target or enabling the channel clears `disabledReason`',
      tags,
      params: IdParam,
      body: ChannelPatch,
      response: Channel,
      status: 200,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const patch = c.req.valid('json');
      const tenantId = caller(c).tenantId;
      const database = db(c);
      const current = await ownChannel(database, tenantId, id);
      if (patch.config) {
        if (patch.config.type !== current.type) {
          throw new HttpError(422, 'validation_failed', 'A channel keeps its type; create another channel instead', {
            path: 'json.config.type',
          });
        }
        assertAllowedTarget(c, patch.config);
      }
      const [row] = await database
        .update(notificationChannels)
        .set({
          ...patch,
          ...(patch.config || patch.enabled === true ? { disabledReason: null } : {}),
          updatedAt: new Date(),
        })
        .where(and(eq(notificationChannels.id, id), eq(notificationChannels.tenantId, tenantId)))
        .returning();
      if (!row) throw notFound('No such notification channel');
      await alertConfigChanged(c, tenantId);
      return c.json(presentChannel(row), 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'delete',
      path: '/channels/{id}',
      summary: 'Delete a notification channel and its delivery log; rules that named it stop naming it',
      tags,
      params: IdParam,
      response: AcceptedResponse,
      status: 200,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const tenantId = caller(c).tenantId;
      const deleted = await db(c).transaction(async (tx) => {
        const [row] = await tx
          .delete(notificationChannels)
          .where(and(eq(notificationChannels.id, id), eq(notificationChannels.tenantId, tenantId)))
          .returning({ id: notificationChannels.id });
        if (!row) return false;
        // Rules list channel ids in their spec (no foreign key can follow jsonb): drop this one from them.
        const channelIds = sql`(${alertRules.spec} -> 'notify' -> 'channelIds')`;
        await tx
          .update(alertRules)
          .set({
            spec: sql`jsonb_set(${alertRules.spec}, '{notify,channelIds}', ${channelIds} - ${id}::text)`,
            updatedAt: new Date(),
          })
          .where(and(eq(alertRules.tenantId, tenantId), sql`${channelIds} @> jsonb_build_array(${id}::text)`));
        return true;
      });
      if (!deleted) throw notFound('No such notification channel');
      await alertConfigChanged(c, tenantId);
      return c.json({ ok: true as const, message: 'Notification channel deleted' }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/channels/{id}/rotate-secret',
      summary:
        'Give a webhook channel a new signing secret, shown in this response only; the previous one keeps signing alongside it for 24 hours',
      tags,
      params: IdParam,
      response: ChannelCreated,
      status: 200,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const tenantId = caller(c).tenantId;
      const database = db(c);
      const current = await ownChannel(database, tenantId, id);
      if (current.type !== 'webhook') {
        throw new HttpError(422, 'validation_failed', 'Only webhook channels have a signing secret', { path: 'id' });
      }
      const secret = newWebhookSecret();
      const now = Date.now();
      const [row] = await database
        .update(notificationChannels)
        .set({
          secret,
          previousSecret: current.secret,
          previousSecretExpiresAt: current.secret ? new Date(now + PREVIOUS_SECRET_TTL_MS) : null,
          updatedAt: new Date(now),
        })
        .where(and(eq(notificationChannels.id, id), eq(notificationChannels.tenantId, tenantId)))
        .returning();
      if (!row) throw notFound('No such notification channel');
      await alertConfigChanged(c, tenantId);
      return c.json({ channel: presentChannel(row), secret }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/channels/{id}/test',
      summary:
        'Send a test notification through the same outbox as real ones; answers its delivery-log line after the first attempt (retries go on in the background)',
      tags,
      params: IdParam,
      response: ChannelTestResult,
      status: 200,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const tenantId = caller(c).tenantId;
      const database = db(c);
      const channel = await ownChannel(database, tenantId, id);
      if (!channel.enabled) {
        throw new HttpError(
          409,
          'channel_disabled',
          channel.disabledReason ?? 'This channel is disabled; enable it first',
        );
      }
      const tenant = c.env.TENANT.get(c.env.TENANT.idFromName(tenantId));
      const record = await tenant.sendTestNotification({ tenantId, origin: publicOrigin(c) }, id);
      if (!record) throw new HttpError(503, 'service_unavailable', 'Alerting is not available right now; try again');
      const [row] = await database
        .select()
        .from(notificationDeliveries)
        .where(
          and(
            eq(notificationDeliveries.tenantId, tenantId),
            eq(notificationDeliveries.channelId, id),
            eq(notificationDeliveries.messageId, record.messageId),
          ),
        )
        .limit(1);
      if (!row)
        throw new HttpError(503, 'service_unavailable', 'The test was sent but its log line is not written yet');
      return c.json({ delivery: presentDelivery(row) }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/channels/{id}/deliveries',
      summary: 'Delivery log of a channel, newest first: status, attempts, latency and last error of each message',
      tags,
      params: IdParam,
      query: DeliveryQuery,
      response: DeliveryList,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { limit } = c.req.valid('query');
      const tenantId = caller(c).tenantId;
      const database = db(c);
      await ownChannel(database, tenantId, id);
      const rows = await database
        .select()
        .from(notificationDeliveries)
        .where(and(eq(notificationDeliveries.channelId, id), eq(notificationDeliveries.tenantId, tenantId)))
        .orderBy(desc(notificationDeliveries.createdAt), desc(notificationDeliveries.id))
        .limit(limit);
      return c.json(
        {
          deliveries: rows.map(presentDelivery),
        },
        200,
      );
    },
  );
