import { DrizzleQueryError } from 'drizzle-orm';

/**
 * SQLSTATE classes whose messages name only schema objects (constraints, relations, columns), never
 * values: connection (08), integrity (23: the values are in `detail`, which is never logged),
 * transaction state (25), rollback (40), syntax and access (42), resources (53), object state (55),
 * operator intervention (57). Other classes, e.g. data exceptions (22: `invalid input syntax for
 * type uuid: "…"`), quote the offending value, so only their code is logged.
 */
const MESSAGE_NAMES_NO_VALUES = /^(08|23|25|40|42|53|55|57)/;

interface DatabaseErrorLike extends Error {
  code: string;
  severity?: string;
  routine?: string;
  constraint?: string;
  table?: string;
  column?: string;
}

function isDatabaseError(error: Error): error is DatabaseErrorLike {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && 'severity' in error;
}

/** `scheme://user:password@` in a message (e.g. a connection string in a driver error) loses its credentials. */
const redactCredentials = (text: string) => text.replace(/\/\/[^\s/@]+@/g, '//[redacted]@');

function describe(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: `thrown ${typeof error}` };
  if (error instanceof DrizzleQueryError) {
    // The query's text is its shape ($1, $2 …); its parameters (passwords, tokens, addresses) never leave.
    return { error: 'DrizzleQueryError: query failed', query: error.query, params: error.params.length };
  }
  if (isDatabaseError(error)) {
    return {
      error: `DatabaseError ${error.code}${MESSAGE_NAMES_NO_VALUES.test(error.code) ? `: ${error.message}` : ''}`,
      ...(error.routine ? { routine: error.routine } : {}),
      ...(error.constraint ? { constraint: error.constraint } : {}),
      ...(error.table ? { table: error.table } : {}),
      ...(error.column ? { column: error.column } : {}),
    };
  }
  return { error: `${error.name}: ${redactCredentials(error.message)}` };
}

/**
 * What the logs may say about an error: its kind, a database error's SQLSTATE and the objects it
 * names, a failed query's SQL text, and the stack frames, but never a query's parameters, a
 * data error's values or a connection string's password. drizzle's own message ("Failed query: …
 * params: …") and the stack's first line (which repeats the message) are exactly what must not leak.
 */
export function loggableError(error: unknown): Record<string, unknown> {
  const fields = describe(error);
  if (!(error instanceof Error)) return fields;
  if (error.cause !== undefined) fields.cause = describe(error.cause);
  const frames = error.stack
    ?.split('\n')
    .filter((line) => /^\s+at /.test(line))
    .join('\n');
  if (frames) fields.stack = redactCredentials(frames);
  return fields;
}
