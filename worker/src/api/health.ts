import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { HealthResponse } from '@pulsewire/protocol';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../db/client.ts';
import { parseConfig } from '../env.ts';
import type { AppEnv } from '../http/app-env.ts';
import { validationHook } from '../http/validation.ts';
import { APP_VERSION } from '../version.ts';

const route = createRoute({
  method: 'get',
  path: '/health',
  tags: ['service'],
  summary: 'Service health',
  description: 'Version, and whether Postgres answered through the Neon driver. 503 when the database is unreachable.',
  responses: {
    200: { description: 'Healthy', content: { 'application/json': { schema: HealthResponse } } },
    503: {
      description: 'Degraded: the database did not answer',
      content: { 'application/json': { schema: HealthResponse } },
    },
  },
});

type DatabaseHealth = HealthResponse['database'];

const DATABASE_TIMEOUT_MS = 5_000;

async function probeDatabase(config: ReturnType<typeof parseConfig>): Promise<DatabaseHealth> {
  if (!config.DATABASE_URL) return { ok: false, error: 'DATABASE_URL is not configured' };
  const handle = openDatabase(config);
  const started = performance.now();
  try {
    const probe = handle.db.execute<{ version: string }>(sql`select version() as version`);
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer within ${DATABASE_TIMEOUT_MS} ms`)), DATABASE_TIMEOUT_MS),
    );
    const result = await Promise.race([probe, timeout]);
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    const version = result.rows[0]?.version;
    return { ok: true, latencyMs, ...(version ? { serverVersion: version.split(' on ')[0] } : {}) };
  } catch (error) {
    // Connection errors can carry hosts and user names: report the kind of failure only.
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: /no answer within/.test(message) ? message : 'database connection failed' };
  } finally {
    handle.close().catch(() => {});
  }
}

export const healthRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).openapi(route, async (c) => {
  const config = parseConfig(c.env);
  const database = await probeDatabase(config);
  const body: HealthResponse = {
    status: database.ok ? 'ok' : 'degraded',
    service: 'pulsewire',
    version: APP_VERSION,
    mode: config.PULSEWIRE_MODE,
    time: new Date().toISOString(),
    database,
  };
  return c.json(body, database.ok ? 200 : 503);
});
