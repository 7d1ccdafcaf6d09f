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

/** The probe itself, an object so tests can count how often it runs. */
export const databaseProbe = { run: probeDatabase };

/**
 * Health is public, so each check must not cost a database connection: a probe's result is reused
 * for a few seconds (per isolate, per database URL). Results, not promises, are kept: a promise
 * tied to one request's I/O may not be awaited by another request.
 */
const PROBE_REUSE_MS = 5_000;
const recentProbes = new Map<string, { at: number; health: DatabaseHealth }>();

async function databaseHealth(config: ReturnType<typeof parseConfig>): Promise<DatabaseHealth> {
  const key = config.DATABASE_URL ?? '';
  const recent = recentProbes.get(key);
  if (recent && Date.now() - recent.at < PROBE_REUSE_MS) return recent.health;
  const health = await databaseProbe.run(config);
  recentProbes.set(key, { at: Date.now(), health });
  return health;
}

export const healthRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).openapi(route, async (c) => {
  const config = parseConfig(c.env);
  const database = await databaseHealth(config);
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
