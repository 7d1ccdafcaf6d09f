import { describe, expect, it } from 'vitest';
import { ApiError } from '#lib/api/client.ts';
import { describeError, errorTarget, fieldMessage, fieldOf } from './errors.ts';

const fields = ['email', 'password', 'currentPassword'] as const;

function apiError(init: Partial<ConstructorParameters<typeof ApiError>[0]> = {}): ApiError {
  return new ApiError({ status: 422, code: 'validation_failed', message: 'bad', ...init });
}

describe('fieldOf', () => {
  it('maps validation paths like json.email to the form field', () => {
    expect(fieldOf('json.email', fields)).toBe('email');
    expect(fieldOf('json.password', fields)).toBe('password');
  });

  it('maps bare paths that domain errors use (currentPassword)', () => {
    expect(fieldOf('currentPassword', fields)).toBe('currentPassword');
  });

  it('uses the first segment of nested paths', () => {
    expect(fieldOf('json.email.0', fields)).toBe('email');
  });

  it('returns null for fields the form does not have, or no path', () => {
    expect(fieldOf('json.name', fields)).toBeNull();
    expect(fieldOf('json', fields)).toBeNull();
    expect(fieldOf(undefined, fields)).toBeNull();
    expect(fieldOf('', fields)).toBeNull();
  });
});

describe('fieldMessage', () => {
  it('drops the path the server puts in front of the message and capitalises', () => {
    expect(fieldMessage({ path: 'json.email', message: 'json.email: must be an e-mail address' })).toBe(
      'Must be an e-mail address',
    );
  });

  it('keeps messages that do not start with the path', () => {
    expect(fieldMessage({ path: 'currentPassword', message: 'The current password is incorrect' })).toBe(
      'The current password is incorrect',
    );
  });
});

describe('errorTarget', () => {
  it('puts a 422 on the field it names', () => {
    const error = apiError({ path: 'json.email', message: 'json.email: must be an e-mail address' });
    expect(errorTarget(error, fields)).toEqual({ field: 'email', message: 'Must be an e-mail address' });
  });

  it('puts a domain error with a path on that field (403 invalid_credentials on currentPassword)', () => {
    const error = apiError({
      status: 403,
      code: 'invalid_credentials',
      path: 'currentPassword',
      message: 'The current password is incorrect',
    });
    expect(errorTarget(error, fields)).toEqual({
      field: 'currentPassword',
      message: 'The current password is incorrect',
    });
  });

  it('puts errors for fields the form lacks, and errors without a path, on the form', () => {
    expect(errorTarget(apiError({ path: 'json.name', message: 'json.name: too long' }), fields)).toEqual({
      field: null,
      message: 'json.name: too long',
    });
    const limited = apiError({ status: 429, code: 'rate_limited', message: 'Too many attempts; retry in 60 s' });
    expect(errorTarget(limited, fields)).toEqual({ field: null, message: 'Too many attempts; retry in 60 s' });
  });

  it('describes non-API errors', () => {
    expect(errorTarget(new Error('boom'), fields)).toEqual({ field: null, message: 'boom' });
  });
});

describe('describeError', () => {
  it('says plainly when the API could not be reached', () => {
    expect(describeError(apiError({ status: 0, code: 'network_error', message: 'fetch failed' }))).toMatch(
      /Could not reach Pulsewire/,
    );
  });

  it('hides internals of server errors but keeps the request id', () => {
    const message = describeError(
      apiError({ status: 500, code: 'internal_error', message: 'Internal error', requestId: 'req_9' }),
    );
    expect(message).toContain('req_9');
    expect(message).toMatch(/on our side/);
  });

  it('passes other API messages through', () => {
    expect(
      describeError(apiError({ status: 409, code: 'last_owner', message: 'An organisation needs an owner' })),
    ).toBe('An organisation needs an owner');
  });
});
