import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { ApiErrorBody } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { baseEnv, callWorker } from '../../test/support.ts';
import type { AppEnv } from './app-env.ts';
import { handleError, notFoundHandler } from './error-handler.ts';
import { HttpError } from './errors.ts';
import { validationHook } from './validation.ts';

async function errorOf(res: Response) {
  return ApiErrorBody.parse(await res.json()).error;
}

describe('error contract of the real Worker', () => {
  it('404 for an unknown API route, as JSON with a request id', async () => {
    const res = await callWorker(baseEnv, '/api/v1/no-such-thing');
    expect(res.status).toBe(404);
    const error = await errorOf(res);
    expect(error.code).toBe('not_found');
    expect(error.message).toContain('/api/v1/no-such-thing');
    expect(error.requestId).toBe(res.headers.get('X-Request-Id'));
  });

  it('405 with Allow for a known path and the wrong method', async () => {
    const res = await callWorker(baseEnv, '/api/v1/health', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('Allow')).toBe('GET, HEAD');
    expect((await errorOf(res)).code).toBe('method_not_allowed');
  });

  it('keeps an incoming X-Request-Id so logs can be correlated with the caller', async () => {
    const res = await callWorker(baseEnv, '/api/v1/nope', { headers: { 'X-Request-Id': 'trace-abc-123' } });
    expect(res.headers.get('X-Request-Id')).toBe('trace-abc-123');
    expect((await errorOf(res)).requestId).toBe('trace-abc-123');
  });
});

describe('error contract for request bodies and failures (same handlers, test routes)', () => {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.openapi(
    createRoute({
      method: 'post',
      path: '/things',
      request: {
        body: {
          required: true,
          content: {
            'application/json': { schema: z.object({ name: z.string().min(1), size: z.number().int().positive() }) },
          },
        },
      },
      responses: {
        201: { description: 'created', content: { 'application/json': { schema: z.object({ ok: z.boolean() }) } } },
      },
    }),
    (c) => c.json({ ok: true }, 201),
  );
  app.get('/boom', () => {
    throw new Error('connection to postgres://admin:s3cret@db.internal failed');
  });
  app.get('/teapot', () => {
    throw new HttpError(409, 'conflict', 'That name is taken', { path: 'name' });
  });
  app.onError(handleError);
  app.notFound(notFoundHandler(() => app.routes));

  const post = (body: string) =>
    app.request('/things', { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('400 invalid_json for a body that is not JSON', async () => {
    const res = await post('{"name": "x",');
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('invalid_json');
  });

  it('422 validation_failed naming the first bad field', async () => {
    const res = await post(JSON.stringify({ name: 'disk', size: -1 }));
    expect(res.status).toBe(422);
    const error = await errorOf(res);
    expect(error.code).toBe('validation_failed');
    expect(error.path).toBe('json.size');
  });

  it('accepts a valid body', async () => {
    const res = await post(JSON.stringify({ name: 'disk', size: 3 }));
    expect(res.status).toBe(201);
  });

  it('renders typed HttpErrors with their status, code and field', async () => {
    const res = await app.request('/teapot');
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toMatchObject({ code: 'conflict', message: 'That name is taken', path: 'name' });
  });

  it('500 internal_error without leaking the internal message', async () => {
    const res = await app.request('/boom');
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('s3cret');
    expect(text).not.toContain('db.internal');
    expect(ApiErrorBody.parse(JSON.parse(text)).error).toMatchObject({
      code: 'internal_error',
      message: 'Internal server error',
    });
  });
});
