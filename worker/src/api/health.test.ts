import { HealthResponse } from '@pulsewire/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import rootPackage from '../../../package.json' with { type: 'json' };
import { callWorker, isolatedEnv } from '../../test/support.ts';
import type { Env } from '../env.ts';

describe('GET /api/v1/health', () => {
  let env: Env;
  beforeAll(async () => {
    env = await isolatedEnv();
  });

  it('reports the version and a reachable database', async () => {
    const res = await callWorker(env, '/api/v1/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = HealthResponse.parse(await res.json());
    expect(body.status).toBe('ok');
    expect(body.version).toBe(rootPackage.version);
    expect(body.mode).toBe('local');
    expect(body.database.ok).toBe(true);
    expect(body.database.latencyMs).toBeGreaterThan(0);
    expect(body.database.serverVersion).toMatch(/^PostgreSQL \d+/);
  });

  it('answers 503 degraded, without leaking the connection string, when Postgres is down', async () => {
    // Port 9 (discard) on loopback: nothing listens there, so the relay's upstream connect fails.
    const down = { ...env, DATABASE_URL: 'postgres://secretuser:hunter2@127.0.0.1:9/postgres?sslmode=disable' };
    const res = await callWorker(down, '/api/v1/health');
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('secretuser');
    const body = HealthResponse.parse(JSON.parse(text));
    expect(body.status).toBe('degraded');
    expect(body.database.ok).toBe(false);
    expect(body.database.error).toBeTruthy();
  });

  it('answers 503 when no database is configured at all', async () => {
    const { DATABASE_URL: _unset, ...withoutDatabase } = env;
    const res = await callWorker(withoutDatabase as Env, '/api/v1/health');
    expect(res.status).toBe(503);
    const body = HealthResponse.parse(await res.json());
    expect(body.database).toEqual({ ok: false, error: 'DATABASE_URL is not configured' });
  });

  it('publishes the route in the OpenAPI document', async () => {
    const res = await callWorker(env, '/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths['/health'] ?? {})).toEqual(['get']);
  });
});
