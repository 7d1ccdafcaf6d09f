import {
  API_KEY_PREFIX,
  parseIngestHeaders,
  SIGNATURE_WINDOW_MS,
  type VerifyResult,
  verifyIngestSignature,
} from '@pulsewire/protocol';
import { eq } from 'drizzle-orm';
import { sha256Hex } from '../auth/tokens.ts';
import type { Database } from '../db/client.ts';
import { apiKeys, hosts } from '../db/schema.ts';
import { isUuid } from '../db/uuid.ts';
import { HttpError } from '../http/errors.ts';
import type { PhaseTimer } from '../http/server-timing.ts';
import { cachedIngestHost, type IngestHost, rememberIngestHost } from './host-cache.ts';

/** The ingest key an agent enrolls with: `Authorization: Bearer pw_live_…` of scope `ingest`. */
export async function authenticateIngestKey(database: Database, authorization: string | undefined) {
  const secret = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!secret) throw new HttpError(401, 'invalid_api_key', 'Enrollment needs "Authorization: Bearer <ingest key>"');
  if (!secret.startsWith(API_KEY_PREFIX) || secret.length > 200) {
    throw new HttpError(401, 'invalid_api_key', 'This is not a Pulsewire API key');
  }
  const [key] = await database
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.secretHash, await sha256Hex(secret)))
    .limit(1);
  if (!key) throw new HttpError(401, 'invalid_api_key', 'Unknown API key');
  if (key.revokedAt) throw new HttpError(403, 'key_revoked', 'This API key has been revoked');
  if (key.scope !== 'ingest') throw new HttpError(403, 'wrong_key_scope', 'Agents enroll with an ingest key');
  return key;
}

export interface AuthenticatedBatch {
  host: IngestHost;
  /** The verified signature's timestamp: the agent's clock when it sent, within the signature window of ours. */
  signedAt: number;
}

/** The answer to a signature that did not hold: 401 `stale_timestamp` or `bad_signature`, as every path gives it. */
export function signatureRefusal(verdict: Exclude<VerifyResult, { ok: true }>): HttpError {
  if (verdict.reason === 'stale_timestamp') {
    return new HttpError(
      401,
      'stale_timestamp',
      `Request timestamp is ${Math.round(verdict.skewMs / 1000)} s off; check the machine's clock`,
    );
  }
  return new HttpError(
    401,
    'bad_signature',
    verdict.reason === 'malformed' ? verdict.message : 'Signature does not match',
  );
}

/** One indexed row, only the columns a push needs (not the facts). */
async function readIngestHost(database: Database, hostId: string): Promise<IngestHost | undefined> {
  const [host] = await database
    .select({
      id: hosts.id,
      tenantId: hosts.tenantId,
      name: hosts.name,
      labels: hosts.labels,
      publicKey: hosts.publicKey,
      revokedAt: hosts.revokedAt,
      deletedAt: hosts.deletedAt,
      lastSeq: hosts.lastSeq,
    })
    .from(hosts)
    .where(eq(hosts.id, hostId))
    .limit(1);
  if (host) rememberIngestHost(host);
  return host;
}

/**
 * Checks the batch signature against the host's enrolled public key. Only the headers are read
 * before the host is known; the body bytes are hashed, never parsed, until the signature holds.
 *
 * The host comes from this isolate's cache when it was read under HOST_CACHE_TTL_MS ago (a live host
 * pushes every second: no database round trip before the batch can be shown). A signature that does not
 * match a cached key is checked once more against a fresh read, so a key replaced elsewhere works at once.
 */
export async function authenticateHost(
  database: Database,
  headers: Headers,
  body: Uint8Array<ArrayBuffer>,
  timer?: PhaseTimer,
): Promise<AuthenticatedBatch> {
  const parsed = parseIngestHeaders(headers);
  if (!parsed.ok) throw new HttpError(401, 'bad_signature', parsed.message);
  const hostId = parsed.value.hostId;
  if (!isUuid(hostId)) throw new HttpError(401, 'unknown_host', 'Unknown host');
  const cached = cachedIngestHost(hostId);
  let host = cached ?? (await readIngestHost(database, hostId));
  if (!host) throw new HttpError(401, 'unknown_host', 'Unknown host; enroll the agent again');
  timer?.mark(cached ? 'host-cached' : 'host');
  let verdict = await verifyIngestSignature({
    headers,
    body,
    publicKey: host.publicKey,
    windowMs: SIGNATURE_WINDOW_MS,
  });
  if (!verdict.ok && verdict.reason === 'bad_signature' && cached) {
    host = await readIngestHost(database, hostId);
    if (!host) throw new HttpError(401, 'unknown_host', 'Unknown host; enroll the agent again');
    if (host.publicKey !== cached.publicKey) {
      verdict = await verifyIngestSignature({
        headers,
        body,
        publicKey: host.publicKey,
        windowMs: SIGNATURE_WINDOW_MS,
      });
    }
  }
  timer?.mark('verify');
  if (!verdict.ok) throw signatureRefusal(verdict);
  // After the signature: only the host's own agent learns that it was revoked or deleted, and it stops.
  if (host.deletedAt) throw new HttpError(403, 'host_revoked', 'This host was deleted; its agent must stop');
  if (host.revokedAt) throw new HttpError(403, 'host_revoked', 'This host has been revoked; its agent must stop');
  return { host, signedAt: verdict.timestamp };
}
