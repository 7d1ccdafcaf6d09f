import type { ErrorCode } from '@pulsewire/protocol';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface HttpErrorExtra {
  path?: string;
  headers?: Record<string, string>;
  /** Machine-readable facts a client acts on, added to the `error` object (e.g. `lastSeq` of a 409 replay). */
  details?: Record<string, string | number>;
}

/** A failure the client caused or must know about; the error handler renders it as-is. */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: ContentfulStatusCode;
  readonly code: ErrorCode | (string & {});
  readonly extra: HttpErrorExtra;
  constructor(
    status: ContentfulStatusCode,
    code: ErrorCode | (string & {}),
    message: string,
    extra: HttpErrorExtra = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

export const badRequest = (message: string) => new HttpError(400, 'bad_request', message);
export const notFound = (message = 'Not found') => new HttpError(404, 'not_found', message);
export const unauthorized = (message = 'Authentication required') => new HttpError(401, 'unauthorized', message);
export const forbidden = (message = 'Forbidden') => new HttpError(403, 'forbidden', message);
