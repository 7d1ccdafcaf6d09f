import type { Context, MiddlewareHandler } from 'hono';
import { type Database, openDatabase } from '../db/client.ts';
import { parseConfig } from '../env.ts';
import type { AppEnv } from './app-env.ts';

/** The request's database, opened on first use; `closeDatabase` ends it after the response. */
export function db(c: Context<AppEnv>): Database {
  let handle = c.get('database');
  if (!handle) {
    handle = openDatabase(parseConfig(c.env));
    c.set('database', handle);
  }
  return handle.db;
}

/**
 * Opens the request's first database connection now and leaves it idle in the pool for the next query, so the
 * handshake overlaps whatever the request does meanwhile. Never rejects: a failure shows again in the first query.
 */
export function connectDatabase(c: Context<AppEnv>): Promise<void> {
  db(c);
  const handle = c.get('database');
  if (!handle) return Promise.resolve();
  return handle.pool.connect().then(
    (client) => client.release(),
    () => {},
  );
}

export const closeDatabase: MiddlewareHandler<AppEnv> = async (c, next) => {
  try {
    await next();
  } finally {
    const handle = c.get('database');
    if (handle) {
      const closing = handle.close().catch(() => {});
      try {
        c.executionCtx.waitUntil(closing);
      } catch {
        await closing; // no execution context (e.g. app.request in unit tests)
      }
    }
  }
};
