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
  throw validationError(result.target, result.error.issues);
};

interface Issue {
  path: PropertyKey[];
  message: string;
  params?: Record<string, unknown>;
}

/**
 * 422 for the first issue, its field in `path` (`json.condition.critical.threshold`). A refinement
 * that names its own code (`params: { code: 'threshold_order' }`, see protocol/src/alerts.ts) answers
 * with that code; everything else is `validation_failed`. Routes that validate a merged value
 * themselves (PATCH) use this too, so both read the same.
 */
export function validationError(target: string, issues: readonly Issue[]): HttpError {
  const issue = issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const where = path ? `${target}.${path}` : target;
  const code = issue?.params?.code;
  return new HttpError(
    422,
    typeof code === 'string' && /^[a-z_]{1,64}$/.test(code) ? code : 'validation_failed',
    `${where}: ${issue?.message ?? 'invalid value'}`,
    { path: where },
  );
}
