import { createRoute } from '@hono/zod-openapi';
import { ApiErrorBody } from '@pulsewire/protocol';
import { resolveCaller } from '../auth/caller.ts';
import { parseConfig } from '../env.ts';
import { HttpError } from '../http/errors.ts';
import { router } from '../http/route.ts';
import { forwardUpgradeToTenant, requireWebSocketUpgrade } from '../http/websocket-upgrade.ts';
import {
  MAX_PRINCIPAL_CONNECTIONS_HEADER,
  MAX_TENANT_CONNECTIONS_HEADER,
  PRINCIPAL_HEADER,
  ROLE_HEADER,
  TENANT_HEADER,
  TRUSTED_HEADERS,
} from '../tenant/tenant-object.ts';

const errorContent = { 'application/json': { schema: ApiErrorBody } };

const streamRoute = createRoute({
  method: 'get',
  path: '/stream',
  tags: ['stream'],
  summary: "WebSocket upgrade to the organisation's live stream",
  description:
    "Authenticated by the session cookie or a `read` API key. Browsers must connect from the dashboard's own " +
    'origin. Messages both ways are the `Client*` / `Server*` schemas of `@pulsewire/protocol` (stream.ts).',
  responses: {
    101: { description: 'Switching protocols: the socket is connected to the tenant object' },
    401: { description: 'Not signed in', content: errorContent },
    403: { description: 'Foreign Origin', content: errorContent },
    426: { description: 'Not a WebSocket upgrade', content: errorContent },
    429: { description: 'Too many open connections', content: errorContent },
  },
});

/**
 * The Worker authenticates and forwards the upgrade to the tenant's Durable Object, which accepts
 * the socket (hibernation API); the Worker never holds the socket itself.
 */
export const streamRoutes = router().openapi(streamRoute, async (c) => {
  // A browser always sends Origin on a WebSocket handshake: only our own pages may ride the cookie.
  const origin = c.req.header('Origin');
  if (origin) {
    const config = parseConfig(c.env);
    const allowed = new Set([new URL(c.req.url).origin]);
    if (config.PUBLIC_URL) allowed.add(new URL(config.PUBLIC_URL).origin);
    if (!allowed.has(origin)) throw new HttpError(403, 'origin_rejected', 'WebSocket from a foreign origin refused');
  }
  const caller = await resolveCaller(c, { allowApiKey: true });
  requireWebSocketUpgrade(c);
  const config = parseConfig(c.env);
  const headers = new Headers(c.req.raw.headers);
  // Never forward a client's copy of a header the object trusts, nor its credentials.
  for (const name of TRUSTED_HEADERS) headers.delete(name);
  headers.delete('Cookie');
  headers.delete('Authorization');
  headers.set(TENANT_HEADER, caller.tenantId);
  headers.set(PRINCIPAL_HEADER, caller.kind === 'session' ? `user:${caller.userId}` : `key:${caller.keyId}`);
  headers.set(ROLE_HEADER, caller.role);
  headers.set(MAX_TENANT_CONNECTIONS_HEADER, String(config.STREAM_MAX_CONNECTIONS_PER_TENANT));
  headers.set(MAX_PRINCIPAL_CONNECTIONS_HEADER, String(config.STREAM_MAX_CONNECTIONS_PER_USER));
  return forwardUpgradeToTenant(c, caller.tenantId, headers);
});
