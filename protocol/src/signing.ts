/**
 * Ingest batch signing (design.md, "Ingest protocol (v1)"). WebCrypto only, so the same code signs in the agent
 * (Node ≥ 22) and verifies in the Worker (workerd) and could run in a browser.
 *
 * The signature is Ed25519 over the canonical string
 *
 *   pulsewire-ingest-v1\n<hostId>\n<timestamp ms>\n<batchId>\n<sha256 hex of the exact body bytes>
 *
 * "Exact body bytes" are the bytes on the wire, i.e. after gzip when `content-encoding: gzip` is set, so the
 * Worker can reject a forged batch before it spends CPU decompressing or parsing it.
 */

export const SIGNATURE_VERSION = 'pulsewire-ingest-v1';
export const HEADER_HOST = 'x-pulsewire-host';
export const HEADER_TIMESTAMP = 'x-pulsewire-timestamp';
export const HEADER_BATCH = 'x-pulsewire-batch';
export const HEADER_SIGNATURE = 'x-pulsewire-signature';
/** Informational (the signed body carries it too); lets the Worker log and rate-limit before parsing. */
export const HEADER_SEQ = 'x-pulsewire-seq';
/** Default accepted clock skew between agent and Worker, either way. */
export const SIGNATURE_WINDOW_MS = 5 * 60 * 1000;

const ED25519 = { name: 'Ed25519' } as const;

/**
 * WebCrypto's `CryptoKey`, spelled so it type-checks both with the DOM lib (Worker, browser) and with
 * @types/node alone (agent), which declares `CryptoKey` as a value only.
 */
export type HostKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
const encoder = new TextEncoder();

export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Throws on anything that is not base64url (no padding, no standard-alphabet characters). */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new Error('not base64url');
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export interface HostKeyPair {
  /** Raw 32-byte public key, base64url: what enrollment sends. */
  publicKey: string;
  /** PKCS#8 private key, base64url: what stays in the agent's 0600 config file. */
  privateKey: string;
}

export async function generateHostKeyPair(): Promise<HostKeyPair> {
  const pair = (await crypto.subtle.generateKey(ED25519, true, ['sign', 'verify'])) as {
    publicKey: HostKey;
    privateKey: HostKey;
  };
  // Workers' types declare one signature for every format (ArrayBuffer | JsonWebKey); the format fixes which.
  const raw = new Uint8Array((await crypto.subtle.exportKey('raw', pair.publicKey)) as ArrayBuffer);
  const pkcs8 = new Uint8Array((await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer);
  return { publicKey: toBase64Url(raw), privateKey: toBase64Url(pkcs8) };
}

export function importPrivateKey(pkcs8Base64Url: string): Promise<HostKey> {
  return crypto.subtle.importKey('pkcs8', fromBase64Url(pkcs8Base64Url), ED25519, false, ['sign']);
}

export async function importPublicKey(rawBase64Url: string): Promise<HostKey> {
  const raw = fromBase64Url(rawBase64Url);
  if (raw.length !== 32) throw new Error('an Ed25519 public key is 32 bytes');
  return crypto.subtle.importKey('raw', raw, ED25519, true, ['verify']);
}

/** The public half of a stored private key, so `status` can show what the server knows this host by. */
export async function publicKeyFromPrivate(pkcs8Base64Url: string): Promise<string> {
  const key = await crypto.subtle.importKey('pkcs8', fromBase64Url(pkcs8Base64Url), ED25519, true, ['sign']);
  const jwk = (await crypto.subtle.exportKey('jwk', key)) as { x?: string };
  if (!jwk.x) throw new Error('not an Ed25519 private key');
  return jwk.x;
}

export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

export function canonicalString(parts: { hostId: string; timestamp: number; batchId: string; bodySha256: string }) {
  return [SIGNATURE_VERSION, parts.hostId, String(parts.timestamp), parts.batchId, parts.bodySha256].join('\n');
}

export interface SignInput {
  privateKey: HostKey;
  hostId: string;
  batchId: string;
  seq?: number;
  /** The exact bytes that will be sent (after compression). */
  body: Uint8Array<ArrayBuffer>;
  /** Epoch ms; defaults to now. */
  timestamp?: number;
}

/** The headers that authenticate one ingest request. */
export async function signIngestRequest(input: SignInput): Promise<Record<string, string>> {
  const timestamp = input.timestamp ?? Date.now();
  const message = canonicalString({
    hostId: input.hostId,
    timestamp,
    batchId: input.batchId,
    bodySha256: await sha256Hex(input.body),
  });
  const signature = new Uint8Array(await crypto.subtle.sign(ED25519, input.privateKey, encoder.encode(message)));
  return ingestHeaders({ ...input, timestamp }, signature);
}

/**
 * The headers around a signature of `canonicalString(parts)`: signIngestRequest's, and those of a signer that
 * is not WebCrypto (the ingest bench signs with Node's synchronous Ed25519, a third of the CPU).
 */
export function ingestHeaders(
  parts: { hostId: string; timestamp: number; batchId: string; seq?: number | undefined },
  signature: Uint8Array,
): Record<string, string> {
  const headers: Record<string, string> = {
    [HEADER_HOST]: parts.hostId,
    [HEADER_TIMESTAMP]: String(parts.timestamp),
    [HEADER_BATCH]: parts.batchId,
    [HEADER_SIGNATURE]: toBase64Url(signature),
  };
  if (parts.seq !== undefined) headers[HEADER_SEQ] = String(parts.seq);
  return headers;
}

/** Anything headers can be read from: a fetch `Headers`, or a plain lower-case map (node:http). */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

export interface SignedHeaders {
  hostId: string;
  timestamp: number;
  batchId: string;
  signature: Uint8Array<ArrayBuffer>;
  seq?: number;
}

export type ParsedHeaders = { ok: true; value: SignedHeaders } | { ok: false; reason: 'malformed'; message: string };

function header(source: HeaderSource, name: string): string | undefined {
  if (typeof (source as Headers).get === 'function') return (source as Headers).get(name) ?? undefined;
  const value = (source as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads the signature headers without checking them, so the Worker can look up the host's public key first.
 * Bounds here are deliberately tight: these values are attacker-controlled and arrive before any check.
 */
export function parseIngestHeaders(source: HeaderSource): ParsedHeaders {
  const hostId = header(source, HEADER_HOST);
  const timestamp = header(source, HEADER_TIMESTAMP);
  const batchId = header(source, HEADER_BATCH);
  const signature = header(source, HEADER_SIGNATURE);
  const seq = header(source, HEADER_SEQ);
  const malformed = (message: string): ParsedHeaders => ({ ok: false, reason: 'malformed', message });
  if (!hostId || !timestamp || !batchId || !signature) {
    return malformed(`${HEADER_HOST}, ${HEADER_TIMESTAMP}, ${HEADER_BATCH} and ${HEADER_SIGNATURE} are required`);
  }
  if (hostId.length > 64 || /[\s\n]/.test(hostId)) return malformed(`${HEADER_HOST} is not a host id`);
  if (batchId.length > 64 || /[\s\n]/.test(batchId)) return malformed(`${HEADER_BATCH} is not a batch id`);
  if (!/^\d{1,16}$/.test(timestamp)) return malformed(`${HEADER_TIMESTAMP} must be epoch milliseconds`);
  if (seq !== undefined && !/^\d{1,16}$/.test(seq)) return malformed(`${HEADER_SEQ} must be a positive integer`);
  let signatureBytes: Uint8Array<ArrayBuffer>;
  try {
    signatureBytes = fromBase64Url(signature);
  } catch {
    return malformed(`${HEADER_SIGNATURE} must be base64url`);
  }
  if (signatureBytes.length !== 64) return malformed(`${HEADER_SIGNATURE} must be a 64-byte Ed25519 signature`);
  return {
    ok: true,
    value: {
      hostId,
      timestamp: Number(timestamp),
      batchId,
      signature: signatureBytes,
      ...(seq !== undefined ? { seq: Number(seq) } : {}),
    },
  };
}

export type VerifyResult =
  | { ok: true; hostId: string; batchId: string; timestamp: number; seq?: number }
  | { ok: false; reason: 'malformed'; message: string }
  | { ok: false; reason: 'stale_timestamp'; skewMs: number }
  | { ok: false; reason: 'bad_signature' };

export interface VerifyInput {
  headers: HeaderSource;
  body: Uint8Array<ArrayBuffer>;
  /** The host's public key: a `CryptoKey`, or the raw base64url form stored at enrollment. */
  publicKey: HostKey | string;
  /** Epoch ms; defaults to now. */
  now?: number;
  windowMs?: number;
}

export async function verifyIngestSignature(input: VerifyInput): Promise<VerifyResult> {
  const parsed = parseIngestHeaders(input.headers);
  if (!parsed.ok) return parsed;
  const { hostId, timestamp, batchId, signature, seq } = parsed.value;
  const skewMs = timestamp - (input.now ?? Date.now());
  if (Math.abs(skewMs) > (input.windowMs ?? SIGNATURE_WINDOW_MS))
    return { ok: false, reason: 'stale_timestamp', skewMs };
  let key: HostKey;
  try {
    key = typeof input.publicKey === 'string' ? await importPublicKey(input.publicKey) : input.publicKey;
  } catch {
    return { ok: false, reason: 'malformed', message: 'the stored public key is not a raw Ed25519 key' };
  }
  const message = canonicalString({ hostId, timestamp, batchId, bodySha256: await sha256Hex(input.body) });
  const valid = await crypto.subtle.verify(ED25519, key, signature, encoder.encode(message));
  if (!valid) return { ok: false, reason: 'bad_signature' };
  return { ok: true, hostId, batchId, timestamp, ...(seq !== undefined ? { seq } : {}) };
}
