import { describe, expect, it } from 'vitest';
import { loginHint } from './login-hint.ts';

describe('sign-in hints', () => {
  it('offers a reset while sign-in is rate limited, and the outbox for an unverified address locally', () => {
    expect(loginHint('rate_limited', false)?.link.href).toBe('/forgot-password');
    expect(loginHint('email_unverified', true)?.link.href).toBe('/dev/outbox');
    expect(loginHint('email_unverified', false)).toBeNull();
    expect(loginHint('invalid_credentials', true)).toBeNull();
    expect(loginHint(null, true)).toBeNull();
  });
});
