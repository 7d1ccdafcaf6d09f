import { fromBase64Url, toBase64Url } from '@pulsewire/protocol';

/**
 * Password hashing with PBKDF2-SHA-256 through WebCrypto. Workers refuse more than 100,000
 * iterations, so that is the count; the stored string names scheme and count so a later, stronger
 * scheme can be introduced and old hashes upgraded at the next sign-in (`needsRehash`).
 */
const SCHEME = 'pbkdf2-sha256';
export const PBKDF2_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

const encoder = new TextEncoder();

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations },
    key,
    HASH_BYTES * 8,
  );
  return new Uint8Array(bits);
}

/** Compares in time independent of where the inputs first differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, PBKDF2_ITERATIONS);
  return `${SCHEME}$${PBKDF2_ITERATIONS}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iterations, salt, hash] = stored.split('$');
  if (scheme !== SCHEME || !iterations || !salt || !hash) return false;
  const count = Number(iterations);
  if (!Number.isInteger(count) || count < 1 || count > PBKDF2_ITERATIONS) return false;
  let expected: Uint8Array;
  let saltBytes: Uint8Array;
  try {
    expected = fromBase64Url(hash);
    saltBytes = fromBase64Url(salt);
  } catch {
    return false;
  }
  return constantTimeEqual(await derive(password, saltBytes, count), expected);
}

export function needsRehash(stored: string): boolean {
  const [scheme, iterations] = stored.split('$');
  return scheme !== SCHEME || Number(iterations) < PBKDF2_ITERATIONS;
}

/**
 * Spends the same time as a real verification, for sign-ins with an unknown e-mail, so response
 * time does not tell which addresses have accounts.
 */
let dummyHash: Promise<string> | undefined;
export async function burnVerificationTime(password: string): Promise<void> {
  dummyHash ??= hashPassword('pulsewire-timing-equaliser');
  await verifyPassword(password, await dummyHash);
}
