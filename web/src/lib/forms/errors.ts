import { type ApiError, isApiError } from '#lib/api/client.ts';

/** Where a failed submit's message belongs: next to one field, or near the submit button. */
export type ErrorTarget<F extends string> = { field: F; message: string } | { field: null; message: string };

/**
 * The form field an API error names, if the form has it. Validation errors carry paths like
 * `json.email` or `json.password`; a few domain errors name a body field directly (`currentPassword`).
 */
export function fieldOf<F extends string>(path: string | undefined, fields: readonly F[]): F | null {
  if (!path) return null;
  const bare = path.replace(/^json\./, '');
  const head = bare.split('.')[0] ?? '';
  return (fields as readonly string[]).includes(head) ? (head as F) : null;
}

/** `json.email: must be an e-mail address` → `Must be an e-mail address` (the field already says where). */
export function fieldMessage(error: Pick<ApiError, 'message' | 'path'>): string {
  let message = error.message;
  if (error.path && message.startsWith(`${error.path}: `)) message = message.slice(error.path.length + 2);
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/** Messages for failures that are not the user's input: readable, with what to do next. */
export function describeError(error: unknown): string {
  if (!isApiError(error)) return error instanceof Error ? error.message : String(error);
  if (error.code === 'network_error') return 'Could not reach Pulsewire. Check your connection and try again.';
  if (error.code === 'invalid_response' || error.code === 'internal_error') {
    return `Something went wrong on our side${error.requestId ? ` (request ${error.requestId})` : ''}. Try again.`;
  }
  return error.message;
}

/** Routes an API error to the field it names (when this form has that field) or to the form. */
export function errorTarget<F extends string>(error: unknown, fields: readonly F[]): ErrorTarget<F> {
  if (isApiError(error)) {
    const field = fieldOf(error.path, fields);
    if (field) return { field, message: fieldMessage(error) };
  }
  return { field: null, message: describeError(error) };
}
