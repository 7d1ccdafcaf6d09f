import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { ApiErrorBody } from '@pulsewire/protocol';
import type { MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import type { AppEnv } from './app-env.ts';
import { validationHook } from './validation.ts';

export function router() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}

const errorContent = { 'application/json': { schema: ApiErrorBody } };

interface JsonRouteSpec<
  M extends 'get' | 'post' | 'patch' | 'put' | 'delete',
  P extends string,
  B extends z.ZodType | undefined,
  Q extends z.ZodObject | undefined,
  R extends z.ZodType,
  S extends 200 | 201 | 202,
  U extends z.ZodObject | undefined = undefined,
> {
  method: M;
  path: P;
  summary: string;
  tags: string[];
  body?: B;
  params?: Q;
  /** Query-string schema, validated like bodies (422 naming `query.<field>`). */
  query?: U;
  /** When the route answers 409, for the document. */
  conflict?: string;
  response: R;
  status: S;
  middleware?: MiddlewareHandler<AppEnv>[];
}

type Nothing = Record<never, never>;
type BodyPart<B> = B extends z.ZodType
  ? { body: { required: true; content: { 'application/json': { schema: B } } } }
  : Nothing;
type ParamsPart<Q> = Q extends z.ZodObject ? { params: Q } : Nothing;
type QueryPart<U> = U extends z.ZodObject ? { query: U } : Nothing;

/**
 * One declaration per route: method, path, body and response schemas, so validation and the
 * OpenAPI document come from the same zod schemas in `protocol/`.
 */
export function jsonRoute<
  M extends 'get' | 'post' | 'patch' | 'put' | 'delete',
  P extends string,
  R extends z.ZodType,
  S extends 200 | 201 | 202,
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  U extends z.ZodObject | undefined = undefined,
>(spec: JsonRouteSpec<M, P, B, Q, R, S, U>) {
  const request = {
    ...(spec.params ? { params: spec.params } : {}),
    ...(spec.query ? { query: spec.query } : {}),
    ...(spec.body ? { body: { required: true, content: { 'application/json': { schema: spec.body } } } } : {}),
  } as BodyPart<B> & ParamsPart<Q> & QueryPart<U>;
  const errors: Record<number, { description: string; content: typeof errorContent }> = {
    400: { description: 'Malformed request', content: errorContent },
    401: { description: 'Not signed in', content: errorContent },
    403: { description: 'Not allowed', content: errorContent },
    404: { description: 'Not found', content: errorContent },
    422: { description: 'Invalid field', content: errorContent },
    429: { description: 'Rate limited', content: errorContent },
  };
  if (spec.conflict) errors[409] = { description: spec.conflict, content: errorContent };
  const responses = {
    [spec.status]: { description: spec.summary, content: { 'application/json': { schema: spec.response } } },
    ...errors,
  } as { [K in S]: { description: string; content: { 'application/json': { schema: R } } } };
  return createRoute({
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    tags: spec.tags,
    middleware: spec.middleware ?? [],
    request,
    responses,
  });
}
