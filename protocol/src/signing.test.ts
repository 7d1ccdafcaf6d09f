import { describe, expect, it } from 'vitest';
import {
  canonicalString,
  fromBase64Url,
  generateHostKeyPair,
  HEADER_BATCH,
  HEADER_HOST,
  HEADER_SEQ,
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
  importPrivateKey,
  parseIngestHeaders,
  publicKeyFromPrivate,
  signIngestRequest,
  toBase64Url,
  verifyIngestSignature,
} from './signing.ts';

const body = new TextEncoder().encode('{"batch_id":"b","samples":[]}');
const NOW = 1_800_000_000_000;

async function signed(overrides: { body?: Uint8Array<ArrayBuffer>; timestamp?: number } = {}) {
  const keys = await generateHostKeyPair();
  const headers = await signIngestRequest({
    privateKey: await importPrivateKey(keys.privateKey),
    hostId: 'h_123',
    batchId: '0b7f4f0e-54a7-4a53-9f0c-6a0d9d1b2c3d',
    seq: 7,
    body: overrides.body ?? body,
    timestamp: overrides.timestamp ?? NOW,
  });
  return { keys, headers };
}

describe('ingest signing', () => {
  it('round-trips: a signed request verifies with the raw public key', async () => {
    const { keys, headers } = await signed();
    expect(Object.keys(headers).sort()).toEqual(
      [HEADER_BATCH, HEADER_HOST, HEADER_SEQ, HEADER_SIGNATURE, HEADER_TIMESTAMP].sort(),
    );
    expect(fromBase64Url(keys.publicKey)).toHaveLength(32);
    const result = await verifyIngestSignature({ headers, body, publicKey: keys.publicKey, now: NOW });
    expect(result).toEqual({
      ok: true,
      hostId: 'h_123',
      batchId: '0b7f4f0e-54a7-4a53-9f0c-6a0d9d1b2c3d',
      timestamp: NOW,
      seq: 7,
    });
  });

  it('reads fetch Headers as well as node:http header maps', async () => {
    const { keys, headers } = await signed();
    const result = await verifyIngestSignature({
      headers: new Headers(headers),
      body,
      publicKey: keys.publicKey,
      now: NOW,
    });
    expect(result.ok).toBe(true);
  });

  it('derives the public key from the stored private key', async () => {
    const keys = await generateHostKeyPair();
    expect(await publicKeyFromPrivate(keys.privateKey)).toBe(keys.publicKey);
  });

  it('rejects a tampered body', async () => {
    const { keys, headers } = await signed();
    const tampered = new TextEncoder().encode('{"batch_id":"b","samples":[1]}');
    expect(await verifyIngestSignature({ headers, body: tampered, publicKey: keys.publicKey, now: NOW })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('rejects a tampered header covered by the signature', async () => {
    const { keys, headers } = await signed();
    const forged = { ...headers, [HEADER_HOST]: 'h_other' };
    const result = await verifyIngestSignature({ headers: forged, body, publicKey: keys.publicKey, now: NOW });
    expect(result).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a signature made with another key', async () => {
    const { headers } = await signed();
    const other = await generateHostKeyPair();
    const result = await verifyIngestSignature({ headers, body, publicKey: other.publicKey, now: NOW });
    expect(result).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects timestamps outside the window, either way, and accepts inside it', async () => {
    const { keys, headers } = await signed();
    const late = await verifyIngestSignature({ headers, body, publicKey: keys.publicKey, now: NOW + 5 * 60_000 + 1 });
    expect(late).toEqual({ ok: false, reason: 'stale_timestamp', skewMs: -(5 * 60_000 + 1) });
    const early = await verifyIngestSignature({ headers, body, publicKey: keys.publicKey, now: NOW - 6 * 60_000 });
    expect(early).toMatchObject({ ok: false, reason: 'stale_timestamp' });
    const inside = await verifyIngestSignature({ headers, body, publicKey: keys.publicKey, now: NOW + 4 * 60_000 });
    expect(inside.ok).toBe(true);
    const narrow = await verifyIngestSignature({
      headers,
      body,
      publicKey: keys.publicKey,
      now: NOW + 2000,
      windowMs: 1000,
    });
    expect(narrow).toMatchObject({ ok: false, reason: 'stale_timestamp' });
  });

  it('reports malformed headers without throwing', async () => {
    const { keys, headers } = await signed();
    const cases: Record<string, string | undefined>[] = [
      { ...headers, [HEADER_SIGNATURE]: undefined },
      { ...headers, [HEADER_HOST]: '' },
      { ...headers, [HEADER_TIMESTAMP]: '2026-01-01T00:00:00Z' },
      { ...headers, [HEADER_SIGNATURE]: 'not+base64url/' },
      { ...headers, [HEADER_SIGNATURE]: toBase64Url(new Uint8Array(10)) },
      { ...headers, [HEADER_HOST]: 'h\nx' },
      { ...headers, [HEADER_SEQ]: '-1' },
    ];
    for (const bad of cases) {
      const result = await verifyIngestSignature({ headers: bad, body, publicKey: keys.publicKey, now: NOW });
      expect(result).toMatchObject({ ok: false, reason: 'malformed' });
    }
    expect(parseIngestHeaders({}).ok).toBe(false);
    const badKey = await verifyIngestSignature({ headers, body, publicKey: 'short', now: NOW });
    expect(badKey).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('builds the canonical string from the version tag, host, timestamp, batch and body hash', () => {
    expect(canonicalString({ hostId: 'h', timestamp: 5, batchId: 'b', bodySha256: 'ab' })).toBe(
      'pulsewire-ingest-v1\nh\n5\nb\nab',
    );
  });

  it('round-trips base64url and refuses other alphabets', () => {
    const bytes = new Uint8Array([0, 1, 250, 251, 252, 253, 254, 255]);
    expect(fromBase64Url(toBase64Url(bytes))).toEqual(bytes);
    expect(toBase64Url(bytes)).not.toMatch(/[+/=]/);
    expect(() => fromBase64Url('ab+/')).toThrow();
  });
});
