import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError } from '#lib/api/client.ts';
import { apiErrorPath, errorsUnder, issuesToErrors, routeApiError } from './validation.ts';

describe('issuesToErrors', () => {
  it('keys messages by path, first one wins, in the editors’ words', () => {
    const schema = z.object({
      name: z.string().min(1),
      items: z.array(z.object({ value: z.number().int().max(10) })),
      to: z.email(),
    });
    const result = schema.safeParse({ name: '', items: [{ value: 11 }, { value: 1.5 }], to: 'nope' });
    expect(result.success).toBe(false);
    expect(issuesToErrors(result.error?.issues ?? [])).toEqual({
      name: 'Required',
      'items.0.value': 'Must be at most 10',
      'items.1.value': 'Enter a whole number',
      to: 'Not a valid e-mail address',
    });
  });

  it('opens a plain union to the issues of the option the input meant', () => {
    const schema = z.object({
      c: z.union([
        z.object({ kind: z.literal('a'), x: z.number() }),
        z.object({ kind: z.literal('b'), y: z.string(), z: z.string() }),
      ]),
    });
    const result = schema.safeParse({ c: { kind: 'b', y: 'ok' } });
    expect(issuesToErrors(result.error?.issues ?? [])).toEqual({ 'c.z': 'Required' });
  });
});

describe('API errors', () => {
  it('strips the json. prefix of a validation path', () => {
    expect(apiErrorPath('json.condition.warning.threshold')).toBe('condition.warning.threshold');
    expect(apiErrorPath('name')).toBe('name');
    expect(apiErrorPath(undefined)).toBeNull();
  });

  it('puts an error on a field the form shows, else above the button', () => {
    const error = new ApiError({
      status: 400,
      code: 'threshold_order',
      message: 'json.condition.critical.threshold: the critical threshold must be at or above the warning threshold',
      path: 'json.condition.critical.threshold',
    });
    expect(routeApiError(error, (p) => p === 'condition.critical.threshold')).toEqual({
      errors: { 'condition.critical.threshold': 'The critical threshold must be at or above the warning threshold' },
      formError: null,
    });
    expect(routeApiError(error, () => false)).toEqual({ errors: {}, formError: error.message });
  });

  it('lists the errors under a group', () => {
    expect(errorsUnder({ 'matchers.0.value': 'Bad', 'matchers.1.name': 'Required', name: 'x' }, 'matchers')).toEqual([
      'Bad',
      'Required',
    ]);
  });
});
