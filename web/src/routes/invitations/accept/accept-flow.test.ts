import { describe, expect, it } from 'vitest';
import { ApiError } from '#lib/api/client.ts';
import { invalidTitle, viewForAcceptError } from './accept-flow.ts';

const error = (status: number, code: string, message = code, path?: string) =>
  new ApiError({ status, code, message, path });

describe('viewForAcceptError', () => {
  it('asks a new user for a password when the API wants one', () => {
    expect(viewForAcceptError(error(422, 'validation_failed', 'Choose a password', 'json.password'))).toEqual({
      kind: 'create',
    });
  });

  it('sends an existing account to sign in first', () => {
    expect(viewForAcceptError(error(401, 'sign_in_required', 'Sign in as b@example.com'))).toEqual({
      kind: 'sign-in',
      message: 'Sign in as b@example.com',
    });
  });

  it('explains a signed-in user of another address', () => {
    expect(viewForAcceptError(error(403, 'invitation_email_mismatch', 'This invitation is for b@x'))).toMatchObject({
      kind: 'mismatch',
    });
  });

  it('reports dead links with their code', () => {
    for (const code of ['token_invalid', 'token_used', 'token_expired', 'invitation_revoked']) {
      expect(viewForAcceptError(error(400, code, 'nope'))).toEqual({ kind: 'invalid', code, message: 'nope' });
    }
  });

  it('treats other validation errors and failures as errors, not as the create form', () => {
    expect(viewForAcceptError(error(422, 'validation_failed', 'json.token: malformed token', 'json.token'))).toEqual({
      kind: 'error',
      message: 'json.token: malformed token',
    });
    expect(viewForAcceptError(error(0, 'network_error', 'offline')).kind).toBe('error');
    expect(viewForAcceptError(new Error('x')).kind).toBe('error');
  });
});

describe('invalidTitle', () => {
  it('names what is wrong with the link', () => {
    expect(invalidTitle('token_used')).toMatch(/already accepted/);
    expect(invalidTitle('token_expired')).toMatch(/expired/);
    expect(invalidTitle('invitation_revoked')).toMatch(/withdrawn/);
    expect(invalidTitle('token_invalid')).toMatch(/not valid/);
  });
});
