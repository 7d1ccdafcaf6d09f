import type { Context } from 'hono';
import type { AppEnv } from './app-env.ts';
import { HttpError } from './errors.ts';

/** A route that only upgrades refuses anything else with 426, after authentication (so strangers learn nothing). */
export function requireWebSocketUpgrade(c: Context<AppEnv>): void {
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
    throw new HttpError(426, 'upgrade_required', 'This route only accepts a WebSocket upgrade', {
      headers: { Upgrade: 'websocket' },
    });
  }
}

/**
 * Hands an authenticated upgrade to the tenant's object, which accepts the socket (hibernation API): the Worker
 * never holds it. The object's refusals are JSON errors already; they are copied so their headers stay mutable.
 */
export async function forwardUpgradeToTenant(c: Context<AppEnv>, tenantId: string, headers: Headers) {
  const stub = c.env.TENANT.get(c.env.TENANT.idFromName(tenantId));
  const res = await stub.fetch(new Request(c.req.url, { method: 'GET', headers }));
  if (res.status === 101 && res.webSocket) return new Response(null, { status: 101, webSocket: res.webSocket });
  return new Response(res.body, { status: res.status, headers: res.headers });
}
