import type { MiddlewareHandler } from 'hono';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** One JSON object per line, so Workers Logs and local tools can filter on fields. */
export function log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, message, time: new Date().toISOString(), ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

export const requestLogger: MiddlewareHandler = async (c, next) => {
  const started = Date.now();
  await next();
  log(c.res.status >= 500 ? 'error' : 'info', 'request', {
    requestId: c.get('requestId'),
    method: c.req.method,
    path: c.req.path,
    status: c.res.status,
    ms: Date.now() - started,
  });
};
