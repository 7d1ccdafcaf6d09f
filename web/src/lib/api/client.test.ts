import type { HealthResponse } from '@pulsewire/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ApiError, apiGet, apiSend, getHealth } from './client.ts';

const healthy: HealthResponse = {
  status: 'ok',
  service: 'pulsewire',
  version: '0.1.0',
  mode: 'local',
  time: '2026-01-02T03:04:05.678Z',
  database: { ok: true, latencyMs: 3.4, serverVersion: 'PostgreSQL 17.2' },
};

const degraded: HealthResponse = {
  ...healthy,
  status: 'degraded',
  database: { ok: false, error: 'connection refused' },
};

const fetchMock = vi.fn<typeof fetch>();

beforeEach(() => {
  fetchMock.mockReset();
  vi.stubGlobal('fetch', fetchMock);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** Runs `promise`, expects it to reject with an ApiError and returns that error. */
async function apiErrorOf(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('getHealth', () => {
  it('GETs /api/v1/health with same-origin credentials and returns the parsed body', async () => {
    fetchMock.mockResolvedValueOnce(json(healthy));

    await expect(getHealth()).resolves.toEqual(healthy);

    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe('/api/v1/health');
    expect(init?.method).toBe('GET');
    expect(init?.credentials).toBe('same-origin');
    expect(init?.body).toBeUndefined();
    expect(init?.headers).toMatchObject({ accept: 'application/json' });
  });

  it('returns a degraded health body that arrives with HTTP 503', async () => {
    fetchMock.mockResolvedValueOnce(json(degraded, 503));

    const health = await getHealth();

    expect(health.status).toBe('degraded');
    expect(health.database).toEqual({ ok: false, error: 'connection refused' });
  });

  it('maps a 503 API error body to an ApiError', async () => {
    fetchMock.mockResolvedValueOnce(
      json({ error: { code: 'service_unavailable', message: 'Maintenance', requestId: 'req_503' } }, 503),
    );

    const error = await apiErrorOf(getHealth());

    expect(error).toMatchObject({
      status: 503,
      code: 'service_unavailable',
      message: 'Maintenance',
      requestId: 'req_503',
    });
  });

  it('rejects a 200 body that does not match HealthResponse with invalid_response', async () => {
    fetchMock.mockResolvedValueOnce(json({ ...healthy, status: 'fine' }));

    const error = await apiErrorOf(getHealth());

    expect(error.code).toBe('invalid_response');
    expect(error.status).toBe(200);
    expect(error.message).toContain('status');
  });

  it('rejects a 200 body that is not JSON with invalid_response', async () => {
    fetchMock.mockResolvedValueOnce(new Response('<!doctype html><title>SPA</title>', { status: 200 }));

    const error = await apiErrorOf(getHealth());

    expect(error.code).toBe('invalid_response');
    expect(error.message).toContain('not JSON');
  });
});

describe('error mapping', () => {
  it('turns an ApiErrorBody into an ApiError with status, code, message, path and requestId', async () => {
    fetchMock.mockResolvedValueOnce(
      json(
        {
          error: {
            code: 'validation_failed',
            message: 'name is required',
            path: 'name',
            requestId: 'req_body',
          },
        },
        422,
        { 'x-request-id': 'req_header' },
      ),
    );

    const error = await apiErrorOf(apiGet('/things', z.object({ id: z.string() })));

    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ApiError');
    expect(error).toMatchObject({
      status: 422,
      code: 'validation_failed',
      message: 'name is required',
      path: 'name',
      requestId: 'req_body',
    });
  });

  it('falls back to the x-request-id header when the error body has no requestId', async () => {
    fetchMock.mockResolvedValueOnce(
      json({ error: { code: 'unauthorized', message: 'Sign in first' } }, 401, { 'x-request-id': 'req_h' }),
    );

    const error = await apiErrorOf(apiGet('/me', z.object({})));

    expect(error).toMatchObject({ status: 401, code: 'unauthorized', requestId: 'req_h' });
  });

  it('reports an error status without an API error body as invalid_response, keeping the status', async () => {
    fetchMock.mockResolvedValueOnce(new Response('Bad gateway', { status: 502, statusText: 'Bad Gateway' }));

    const error = await apiErrorOf(getHealth());

    expect(error.code).toBe('invalid_response');
    expect(error.status).toBe(502);
    expect(error.message).toContain('502');
  });

  it('reports a rejected fetch as network_error with status 0', async () => {
    fetchMock.mockRejectedValueOnce(new TypeError('fetch failed'));

    const error = await apiErrorOf(getHealth());

    expect(error).toMatchObject({ status: 0, code: 'network_error' });
    expect(error.message).toContain('fetch failed');
  });

  it('reports a timeout as network_error', async () => {
    fetchMock.mockImplementationOnce(
      (_url, init) =>
        new Promise((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    );

    const error = await apiErrorOf(getHealth({ timeoutMs: 20 }));

    expect(error.code).toBe('network_error');
    expect(error.message).toContain('timed out');
  });

  it("rethrows the caller's abort instead of wrapping it", async () => {
    fetchMock.mockImplementationOnce(
      (_url, init) =>
        new Promise((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    );
    const controller = new AbortController();
    const pending = getHealth({ signal: controller.signal });
    controller.abort(new DOMException('left the page', 'AbortError'));

    const error = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).not.toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ name: 'AbortError', message: 'left the page' });
  });
});

describe('apiSend', () => {
  it('sends a JSON body and parses the answer with the given schema', async () => {
    fetchMock.mockResolvedValueOnce(json({ id: 'h_1', name: 'web-1' }, 201));

    const created = await apiSend('POST', '/hosts', { name: 'web-1' }, z.object({ id: z.string(), name: z.string() }));

    expect(created).toEqual({ id: 'h_1', name: 'web-1' });
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe('/api/v1/hosts');
    expect(init?.method).toBe('POST');
    expect(init?.credentials).toBe('same-origin');
    expect(init?.body).toBe('{"name":"web-1"}');
    expect(init?.headers).toMatchObject({ 'content-type': 'application/json' });
  });

  it('accepts an empty 204 answer when the schema allows undefined', async () => {
    fetchMock.mockResolvedValueOnce(new Response(null, { status: 204 }));

    await expect(apiSend('DELETE', '/hosts/h_1', undefined, z.undefined())).resolves.toBeUndefined();
    expect(fetchMock.mock.calls[0]?.[1]?.body).toBeUndefined();
  });

  it('rejects a success body that does not match the schema with invalid_response', async () => {
    fetchMock.mockResolvedValueOnce(json({ id: 42 }, 201));

    const error = await apiErrorOf(apiSend('POST', '/hosts', {}, z.object({ id: z.string() })));

    expect(error).toMatchObject({ status: 201, code: 'invalid_response' });
    expect(error.message).toContain('id');
  });
});

it('refuses a path that does not start with a slash', async () => {
  await expect(apiGet('health', z.unknown())).rejects.toThrow(TypeError);
  expect(fetchMock).not.toHaveBeenCalled();
});
