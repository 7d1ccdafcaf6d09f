import { isApiError } from '#lib/api/client.ts';
import { errorTarget } from './errors.ts';

/**
 * State of one form: submit in flight, an error per field and one for the whole form.
 * `submit` runs the request, disables resubmits while it is pending, and routes API errors.
 */
export class FormState<F extends string> {
  pending = $state(false);
  errors = $state<Partial<Record<F, string>>>({});
  error = $state<string | null>(null);
  /** The API's code for the last failed submit, for forms that say more about some codes. */
  errorCode = $state<string | null>(null);

  readonly #fields: readonly F[];

  constructor(fields: readonly F[]) {
    this.#fields = fields;
  }

  /** Clears one field's error, e.g. when the user edits it. */
  clear(field: F): void {
    if (this.errors[field] === undefined) return;
    const { [field]: _, ...rest } = this.errors;
    this.errors = rest as Partial<Record<F, string>>;
  }

  reset(): void {
    this.errors = {};
    this.error = null;
    this.errorCode = null;
  }

  /** Sets errors found before sending (e.g. passwords that do not match). */
  fail(field: F | null, message: string): void {
    if (field) this.errors = { ...this.errors, [field]: message };
    else this.error = message;
  }

  /** Runs `action` unless a submit is pending; resolves to its result, or `undefined` when it failed. */
  async submit<T>(action: () => Promise<T>): Promise<T | undefined> {
    if (this.pending) return undefined;
    this.reset();
    this.pending = true;
    try {
      return await action();
    } catch (error) {
      this.errorCode = isApiError(error) ? String(error.code) : null;
      const target = errorTarget(error, this.#fields);
      this.fail(target.field, target.message);
      return undefined;
    } finally {
      this.pending = false;
    }
  }
}
