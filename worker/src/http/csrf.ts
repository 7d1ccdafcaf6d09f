import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.ts';
import { HttpError } from './errors.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cookie-authenticated state changes must come from our own pages: browsers send `Origin` (and
 * `Sec-Fetch-Site`) on every such request, so a foreign or cross-site one is refused. Clients that
 * send neither are not browsers and cannot be tricked into riding a cookie. SameSite=Lax on the
 * cookie is the second layer.
 */
export const csrfProtection: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!SAFE_METHODS.has(c.req.method)) {
    const origin = c.req.header('Origin');
    const site = c.req.header('Sec-Fetch-Site');
    const ownOrigin = new URL(c.req.url).origin;
    if ((origin && origin !== ownOrigin) || site === 'cross-site') {
      throw new HttpError(403, 'csrf_rejected', 'Cross-site request refused');
    }
  }
  await next();
};
