import { HttpError } from '../http/errors.ts';

export interface TimeRange {
  from: Date;
  to: Date;
}

/**
 * The range a history request asks for: `to` defaults to now, `from` to `defaultSpanMs` before
 * `to`. `from` must come before `to`, and the span may not exceed `maxSpanMs` (422 naming the field).
 */
export function resolveRange(
  query: { from?: string | undefined; to?: string | undefined },
  options: { defaultSpanMs: number; maxSpanMs?: number; now?: number },
): TimeRange {
  const to = query.to ? new Date(query.to) : new Date(options.now ?? Date.now());
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - options.defaultSpanMs);
  if (from.getTime() >= to.getTime()) {
    throw new HttpError(422, 'validation_failed', 'query.from: must be before to', { path: 'query.from' });
  }
  if (options.maxSpanMs !== undefined && to.getTime() - from.getTime() > options.maxSpanMs) {
    const hours = options.maxSpanMs / 3_600_000;
    throw new HttpError(422, 'validation_failed', `query.from: the range may span at most ${hours} h`, {
      path: 'query.from',
    });
  }
  return { from, to };
}
