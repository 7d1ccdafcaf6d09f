import type { Hook } from '@hono/zod-openapi';
import { HttpError } from './errors.ts';

/**
 * zod-openapi calls this when a request part fails its schema: answer 422 naming the first bad
 * field, so clients can point at it, instead of the library's default shape.
 */
// biome-ignore lint/suspicious/noExplicitAny: the hook is shared by routes of every shape
export const validationHook: Hook<any, any, any, any> = (result) => {
  if (result.success) return;
  // A malformed id in the path names nothing that exists: answer like any unknown id.
  if (result.target === 'param') throw new HttpError(404, 'not_found', 'Not found');
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const where = path ? `${result.target}.${path}` : result.target;
  throw new HttpError(422, 'validation_failed', `${where}: ${issue?.message ?? 'invalid value'}`, { path: where });
};
