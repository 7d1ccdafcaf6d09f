/** The Postgres error behind a failed query (drizzle wraps the driver's error in `cause`), if any. */
function postgresError(error: unknown): { code?: string; constraint?: string } | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return e as { code?: string; constraint?: string };
  }
  return undefined;
}

/**
 * A unique index refused the write. Where two requests may race for the same value (an e-mail
 * address), the index is the arbiter: write, and turn this into a 409, instead of checking first.
 */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const pg = postgresError(error);
  return pg?.code === '23505' && pg.constraint === constraint;
}
