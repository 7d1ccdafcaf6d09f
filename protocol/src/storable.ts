import * as z from 'zod';

/**
 * What Postgres can store, decided once for every value that crosses an edge (ingest, enrollment, the agent's
 * intake). A value that passes validation but that Postgres refuses turns into a 500 after the fact, and a
 * client that retries 5xx then retries it forever; so the schemas refuse it with a 422 instead.
 *
 * Strings: `text` and `jsonb` refuse NUL (U+0000), and `jsonb` refuses an unpaired UTF-16 surrogate (which
 * `JSON.stringify` writes as a `\udXXX` escape); `text` would silently turn one into U+FFFD. In `u` mode a
 * well-formed surrogate pair is one code point above U+FFFF, so this class matches only unpaired halves.
 */
const UNSTORABLE_CHARS = /[\0\uD800-\uDFFF]/u;
const UNSTORABLE_CHARS_ALL = /[\0\uD800-\uDFFF]/gu;

export function isStorableText(text: string): boolean {
  return !UNSTORABLE_CHARS.test(text);
}

/** For producers that clean rather than refuse (the agent's own collectors): each bad unit becomes U+FFFD. */
export function toStorableText(text: string): string {
  return isStorableText(text) ? text : text.replace(UNSTORABLE_CHARS_ALL, '\uFFFD');
}

/** Every free-text string field of an accepted request is one of these (chain `.min`/`.max` as usual). */
export const storableText = z
  .string()
  .refine(isStorableText, { message: 'text may not contain NUL characters or unpaired surrogates' });

/**
 * Floats stored in a `real` (float4) column. Postgres refuses a value that float4 cannot hold: one that
 * underflows to zero (e.g. 1e-46) or overflows; doubles (`double precision`, jsonb numbers) take any finite
 * number. Non-zero magnitudes below FLOAT4_MIN are refused rather than rounded, so nothing changes silently.
 */
export const FLOAT4_MIN = 1e-37;
export const FLOAT4_MAX = 3.4e38;

export function isFloat4(value: number): boolean {
  const magnitude = Math.abs(value);
  return magnitude === 0 || (magnitude >= FLOAT4_MIN && magnitude <= FLOAT4_MAX);
}

export const float4 = z
  .number()
  .refine(isFloat4, { message: `must be 0 or have a magnitude between ${FLOAT4_MIN} and ${FLOAT4_MAX}` });
