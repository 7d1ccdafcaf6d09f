import type { ApiErrorBody } from '@pulsewire/protocol';
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { allowedMethods } from './allowed-methods.ts';
import { HttpError, type HttpErrorExtra } from './errors.ts';
import { loggableError } from './loggable-error.ts';
import { log } from './logger.ts';

const codeForStatus: Partial<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'validation_failed',
  429: 'rate_limited',
  503: 'service_unavailable',
};

export function errorResponse(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  extra: HttpErrorExtra = {},
): Response {
  const requestId: string | undefined = c.get('requestId');
  const body: ApiErrorBody = {
    error: {
      ...extra.details,
      code,
      message,
      ...(extra.path ? { path: extra.path } : {}),
      ...(requestId ? { requestId } : {}),
    },
  };
  return c.json(body, status, extra.headers);
}

/** The one place where failures become `{"error":{"code","message"}}` responses. */
export const handleError: ErrorHandler = (err, c) => {
  if (err instanceof HttpError) {
    return errorResponse(c, err.status, err.code, err.message, err.extra);
  }
  if (err instanceof HTTPException && err.status < 500) {
    // Hono's own validators throw these, e.g. for a body that is not JSON.
    const malformedJson = err.status === 400 && /malformed json/i.test(err.message);
    const code = malformedJson ? 'invalid_json' : (codeForStatus[err.status] ?? 'bad_request');
    const message = malformedJson ? 'Request body is not valid JSON' : err.message || code;
    return errorResponse(c, err.status as ContentfulStatusCode, code, message);
  }
  log('error', 'unhandled error', {
    requestId: c.get('requestId'),
    method: c.req.method,
    path: c.req.path,
    // drizzle wraps the driver's error: the cause carries the SQLSTATE that says what actually went wrong.
    ...loggableError(err),
  });
  return errorResponse(c, 500, 'internal_error', 'Internal server error');
};

export const notFoundHandler =
  (routes: () => readonly { method: string; path: string }[]): NotFoundHandler =>
  (c) => {
    const methods = allowedMethods(routes(), c.req.path);
    if (methods.length > 0) {
      return errorResponse(c, 405, 'method_not_allowed', `Method ${c.req.method} is not allowed on ${c.req.path}`, {
        headers: { Allow: methods.join(', ') },
      });
    }
    return errorResponse(c, 404, 'not_found', `No route for ${c.req.method} ${c.req.path}`);
  };
