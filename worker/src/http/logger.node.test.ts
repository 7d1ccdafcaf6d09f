import { Hono } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { requestLogger } from './logger.ts';

/** What the request logger writes decides the Workers Logs bill: one line per push would be paid per push. */
function appWith(status: number) {
  const app = new Hono();
  app.use(requestLogger);
  app.all('*', (c) => c.body(null, status as 200));
  return app;
}

function lines(spy: { mock: { calls: unknown[][] } }) {
  return spy.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
}

describe('requestLogger', () => {
  afterEach(() => vi.restoreAllMocks());

  it('logs nothing for a healthy push, so a push costs no log event', async () => {
    const info = vi.spyOn(console, 'log').mockImplementation(() => {});
    const res = await appWith(200).request('/api/v1/ingest', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(info).not.toHaveBeenCalled();
  });

  it('logs a refused or failed push, and every other request', async () => {
    const info = vi.spyOn(console, 'log').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    await appWith(401).request('/api/v1/ingest', { method: 'POST' });
    await appWith(503).request('/api/v1/ingest', { method: 'POST' });
    await appWith(200).request('/api/v1/hosts');
    expect(lines(info).map((l) => [l.path, l.status])).toEqual([
      ['/api/v1/ingest', 401],
      ['/api/v1/hosts', 200],
    ]);
    expect(lines(error).map((l) => [l.level, l.path, l.status])).toEqual([['error', '/api/v1/ingest', 503]]);
  });
});
