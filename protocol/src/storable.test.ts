import { describe, expect, it } from 'vitest';
import { float4, isStorableText, storableText, toStorableText } from './storable.ts';

describe('storable values', () => {
  it('tells storable text from NUL and unpaired surrogates', () => {
    expect(isStorableText('plain, ünïcode and 😀')).toBe(true);
    expect(isStorableText('a\0b')).toBe(false);
    expect(isStorableText('\uD83D')).toBe(false);
    expect(isStorableText('\uDE00\uD83D')).toBe(false);
    expect(storableText.max(3).safeParse('abcd').success).toBe(false);
  });

  it('cleans what it would refuse, unit by unit, and leaves pairs alone', () => {
    expect(toStorableText('a\0b\uD83Dc😀')).toBe('a\uFFFDb\uFFFDc😀');
    const clean = 'nothing to do';
    expect(toStorableText(clean)).toBe(clean);
  });

  it('bounds float4 values to what Postgres stores', () => {
    for (const ok of [0, -0, 1, 0.5, 1e-37, -1e-30, 3e38]) expect(float4.safeParse(ok).success, String(ok)).toBe(true);
    for (const bad of [1e-46, 1e-40, -1e-38, 1e39, Number.NaN]) expect(float4.safeParse(bad).success).toBe(false);
  });
});

describe('account names are storable too', () => {
  it('refuses NUL and lone surrogates in sign-up, organisation and key names', async () => {
    const { SignupRequest } = await import('./accounts.ts');
    const base = { email: 'a@example.com', password: 'long enough password' };
    expect(SignupRequest.safeParse({ ...base, name: 'Ada' }).success).toBe(true);
    expect(SignupRequest.safeParse({ ...base, name: 'A\u0000da' }).success).toBe(false);
    expect(SignupRequest.safeParse({ ...base, organizationName: 'Acme\uD800' }).success).toBe(false);
  });
});
