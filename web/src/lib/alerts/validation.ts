import { isApiError } from '#lib/api/client.ts';
import { describeError } from '#lib/forms/errors.ts';

/**
 * Field errors of the alerting editors, keyed by the path of the field in the request body
 * (`condition.warning.threshold`, `notify.renotifyMinutes`, `matchers.0.value`). The editors validate
 * with the same protocol schema the API uses, so a client-side issue and a server error name the
 * same path, and each field looks its message up by its own path.
 */
export type FieldErrors = Record<string, string>;

interface Issue {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
  expected?: string;
  origin?: string;
  format?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  /** `invalid_union`: the issues of each option, with paths relative to the union. */
  errors?: readonly (readonly Issue[])[];
}

/** Fields that tell the options of a union apart (`condition.kind`, `scope.type`, `condition.mode`). */
const discriminators = new Set<PropertyKey>(['kind', 'type', 'mode']);

/** A literal that did not match, or a discriminated union that found no option for its discriminator. */
function picksOtherOption(issue: Issue): boolean {
  const mismatch = issue.code === 'invalid_value' || (issue.code === 'invalid_union' && !issue.errors?.length);
  return mismatch && issue.path.length === 1 && discriminators.has(issue.path[0] as PropertyKey);
}

/**
 * Issues with every `invalid_union` replaced by the issues of the option the input meant: a plain
 * union (such as a rule's condition) reports each option's failures under the union's own path,
 * which would put "invalid input" on the whole condition instead of on the threshold that is
 * missing. The meant option is the one whose discriminator matched (else the one with fewest issues).
 */
export function flattenIssues(issues: readonly Issue[], prefix: readonly PropertyKey[] = []): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors && issue.errors.length > 0) {
      const options = issue.errors.filter((option) => option.length > 0);
      const matching = options.filter((option) => !option.some(picksOtherOption));
      const pool = matching.length > 0 ? matching : options;
      const best = [...pool].sort((a, b) => a.length - b.length)[0];
      if (best) {
        out.push(...flattenIssues(best, path));
        continue;
      }
    }
    out.push({ ...issue, path });
  }
  return out;
}

/** `['condition', 'warning', 'threshold']` → `condition.warning.threshold`. */
export function pathKey(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** The first message per path (zod lists the most basic problem first). */
export function issuesToErrors(issues: readonly Issue[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of flattenIssues(issues)) {
    const key = pathKey(issue.path);
    errors[key] ??= friendlyMessage(issue);
  }
  return errors;
}

/**
 * Zod's generic messages in the editors' words. The schema's own messages (refinements such as
 * "the critical threshold must be at or above the warning threshold") are kept as they are.
 */
export function friendlyMessage(issue: Issue): string {
  const { code, message } = issue;
  if (code === 'invalid_type') {
    if (message.endsWith('received undefined')) return 'Required';
    if (message.endsWith('received NaN')) return 'Enter a number';
    if (issue.expected === 'int') return 'Enter a whole number';
  }
  if (code === 'too_small' && issue.minimum !== undefined) {
    if (issue.origin === 'string')
      return Number(issue.minimum) <= 1 ? 'Required' : `At least ${issue.minimum} characters`;
    if (issue.origin === 'array') return `Add at least ${issue.minimum}`;
    if (issue.origin === 'number') return `Must be at least ${issue.minimum}`;
  }
  if (code === 'too_big' && issue.maximum !== undefined) {
    if (issue.origin === 'string') return `At most ${issue.maximum} characters`;
    if (issue.origin === 'array') return `At most ${issue.maximum} entries`;
    if (issue.origin === 'number') return `Must be at most ${issue.maximum}`;
  }
  if (code === 'invalid_format') {
    if (issue.format === 'email') return 'Not a valid e-mail address';
    if (issue.format === 'url') return 'Not a valid URL';
  }
  return capitalise(message);
}

/** An API error's `path` (`json.condition.critical.threshold` or `condition.critical.threshold`) as a field key. */
export function apiErrorPath(path: string | undefined): string | null {
  if (!path) return null;
  const bare = path.replace(/^json\./, '');
  return bare === '' || bare === 'json' ? null : bare;
}

/**
 * Where a failed save's message goes: on the field the API named when the form shows that path
 * (`shown(path)`), else above the save button.
 */
export function routeApiError(
  error: unknown,
  shown: (path: string) => boolean,
): { errors: FieldErrors; formError: string | null } {
  if (isApiError(error)) {
    const path = apiErrorPath(error.path);
    if (path && shown(path)) {
      let message = error.message;
      for (const prefix of [`json.${path}: `, `${path}: `]) {
        if (message.startsWith(prefix)) message = message.slice(prefix.length);
      }
      return { errors: { [path]: capitalise(message) }, formError: null };
    }
  }
  return { errors: {}, formError: describeError(error) };
}

/** Errors at `prefix` or below it (e.g. every error of one matcher row), for a group's summary. */
export function errorsUnder(errors: FieldErrors, prefix: string): string[] {
  return Object.entries(errors)
    .filter(([key]) => key === prefix || key.startsWith(`${prefix}.`))
    .map(([, message]) => message);
}

function capitalise(message: string): string {
  return message.charAt(0).toUpperCase() + message.slice(1);
}
