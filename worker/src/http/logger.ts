import type { MiddlewareHandler } from 'hono';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** One JSON object per line, so Workers Logs and local tools can filter on fields. */
export function log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, message, time: new Date().toISOString(), ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

/**
 * Paths an agent calls on every push: at the live cadence that is 86,400 requests per host a month, and Workers
 * Logs bills every line. A healthy push is counted by Workers' analytics, not logged; a refused, failed or slow
 * one is logged like any other request.
 */
const PER_PUSH_PATHS = new Set(['/api/v1/ingest']);
/** A push slower than this is logged even when it succeeded. */
export const SLOW_PUSH_MS = 1000;

export const requestLogger: MiddlewareHandler = async (c, next) => {
  const started = Date.now();
  await next();
  const ms = Date.now() - started;
  const status = c.res.status;
  if (PER_PUSH_PATHS.has(c.req.path) && status < 400 && ms < SLOW_PUSH_MS) return;
  log(status >= 500 ? 'error' : ms >= SLOW_PUSH_MS ? 'warn' : 'info', 'request', {
    requestId: c.get('requestId'),
    method: c.req.method,
    path: c.req.path,
    status,
    ms,
  });
};
