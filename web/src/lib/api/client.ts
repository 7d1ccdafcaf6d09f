import { ApiErrorBody, type ErrorCode, HealthResponse } from '@pulsewire/protocol';
import type { ZodType } from 'zod';

/**
 * Typed client for the Pulsewire HTTP API.
 *
 * The SPA is served by the Worker on the API's own origin, so every request is a relative URL
 * under {@link API_BASE} sent with same-origin credentials (in `vite dev`, Vite proxies `/api`).
 * Success bodies are parsed with the caller's protocol schema; every failure becomes an
 * {@link ApiError}.
 */
export const API_BASE = '/api/v1';

/** Default time a request may take before it fails with `network_error`. */
export const DEFAULT_TIMEOUT_MS = 15_000;

/** Codes the client produces itself, in addition to the server's {@link ErrorCode}s. */
export const clientErrorCodes = ['network_error', 'invalid_response'] as const;
export type ClientErrorCode = (typeof clientErrorCodes)[number];

/** A server code, a client code, or a server code this build does not know yet. */
export type ApiErrorCode = ErrorCode | ClientErrorCode | (string & {});

export interface ApiErrorInit {
  /** HTTP status, or 0 when no response arrived. */
  status: number;
  code: ApiErrorCode;
  message: string;
  requestId?: string | undefined;
  /** For validation errors: where the request was wrong. */
  path?: string | undefined;
  cause?: unknown;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly requestId: string | undefined;
  readonly path: string | undefined;

  constructor(init: ApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.path = init.path;
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}

export type SendMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  /** Cancels the request; a caller's abort rejects with the signal's reason, not an ApiError. */
  signal?: AbortSignal;
  /** Fails with `network_error` after this many milliseconds (default {@link DEFAULT_TIMEOUT_MS}). */
  timeoutMs?: number;
  /**
   * Non-2xx statuses whose body is still a valid answer when it matches the success schema,
   * e.g. 503 for a degraded health check. A body that does not match is read as an error body.
   */
  acceptStatuses?: readonly number[];
}

/** `GET {API_BASE}{path}`, parsed with `schema`. */
export function apiGet<T>(path: string, schema: ZodType<T>, options?: RequestOptions): Promise<T> {
  return request('GET', path, undefined, schema, options);
}

/** `{method} {API_BASE}{path}` with a JSON body (omitted when `body` is undefined), parsed with `schema`. */
export function apiSend<T>(
  method: SendMethod,
  path: string,
  body: unknown,
  schema: ZodType<T>,
  options?: RequestOptions,
): Promise<T> {
  return request(method, path, body, schema, options);
}

/**
 * `GET /api/v1/health`. The Worker answers 200 when healthy and 503 with the same body when
 * degraded, so both resolve to a {@link HealthResponse}.
 */
export function getHealth(options?: Omit<RequestOptions, 'acceptStatuses'>): Promise<HealthResponse> {
  return apiGet('/health', HealthResponse, { ...options, acceptStatuses: [503] });
}

async function request<T>(
  method: 'GET' | SendMethod,
  path: string,
  body: unknown,
  schema: ZodType<T>,
  options: RequestOptions = {},
): Promise<T> {
  if (!path.startsWith('/')) {
    throw new TypeError(`API path must start with "/", got ${JSON.stringify(path)}`);
  }
  const url = `${API_BASE}${path}`;
  const what = `${method} ${url}`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;

  const headers: Record<string, string> = { accept: 'application/json' };
  const init: RequestInit = { method, headers, credentials: 'same-origin', signal };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }

  let res: Response;
  let text: string;
  try {
    res = await fetch(url, init);
    text = await res.text();
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    const message = timeout.aborted
      ? `${what} timed out after ${timeoutMs} ms`
      : `Could not reach the Pulsewire API (${what}): ${describe(error)}`;
    throw new ApiError({ status: 0, code: 'network_error', message, cause: error });
  }

  const headerRequestId = res.headers.get('x-request-id') ?? undefined;
  const json = parseJson(text);

  if (res.ok || options.acceptStatuses?.includes(res.status)) {
    const parsed = json.ok ? schema.safeParse(json.value) : undefined;
    if (parsed?.success) return parsed.data;
    if (res.ok) {
      const reason = parsed ? firstIssue(parsed.error.issues) : 'body is not JSON';
      throw new ApiError({
        status: res.status,
        code: 'invalid_response',
        message: `Unexpected response from ${what}: ${reason}`,
        requestId: headerRequestId,
        cause: parsed?.error,
      });
    }
    // An accepted non-2xx status whose body is not a success body: read it as an error below.
  }

  const errorBody = json.ok ? ApiErrorBody.safeParse(json.value) : undefined;
  if (errorBody?.success) {
    const { code, message, path: where, requestId } = errorBody.data.error;
    throw new ApiError({ status: res.status, code, message, path: where, requestId: requestId ?? headerRequestId });
  }
  throw new ApiError({
    status: res.status,
    code: 'invalid_response',
    message: `${what} failed with HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} and no API error body`,
    requestId: headerRequestId,
  });
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  // An empty body (e.g. 204) is `undefined`, which schemas like `z.undefined()` accept.
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function firstIssue(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  const issue = issues[0];
  if (!issue) return 'body does not match the expected schema';
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(body)';
  return `${where}: ${issue.message}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
