import { API_KEY_PREFIX, parseIngestHeaders, SIGNATURE_WINDOW_MS, verifyIngestSignature } from '@pulsewire/protocol';
import { eq } from 'drizzle-orm';
import { sha256Hex } from '../auth/tokens.ts';
import type { Database } from '../db/client.ts';
import { apiKeys, hosts } from '../db/schema.ts';
import { isUuid } from '../db/uuid.ts';
import { HttpError } from '../http/errors.ts';

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
  host: typeof hosts.$inferSelect;
  /** The verified signature's timestamp: the agent's clock when it sent, within the signature window of ours. */
  signedAt: number;
}

/**
 * Checks the batch signature against the host's enrolled public key. Only the headers are read
 * before the host is known; the body bytes are hashed, never parsed, until the signature holds.
 */
export async function authenticateHost(
  database: Database,
  headers: Headers,
  body: Uint8Array<ArrayBuffer>,
): Promise<AuthenticatedBatch> {
  const parsed = parseIngestHeaders(headers);
  if (!parsed.ok) throw new HttpError(401, 'bad_signature', parsed.message);
  const hostId = parsed.value.hostId;
  if (!isUuid(hostId)) throw new HttpError(401, 'unknown_host', 'Unknown host');
  const [host] = await database.select().from(hosts).where(eq(hosts.id, hostId)).limit(1);
  if (!host) throw new HttpError(401, 'unknown_host', 'Unknown host; enroll the agent again');
  const verdict = await verifyIngestSignature({
    headers,
    body,
    publicKey: host.publicKey,
    windowMs: SIGNATURE_WINDOW_MS,
  });
  if (!verdict.ok) {
    if (verdict.reason === 'stale_timestamp') {
      throw new HttpError(
        401,
        'stale_timestamp',
        `Request timestamp is ${Math.round(verdict.skewMs / 1000)} s off; check the machine's clock`,
      );
    }
    throw new HttpError(
      401,
      'bad_signature',
      verdict.reason === 'malformed' ? verdict.message : 'Signature does not match',
    );
  }
  // After the signature: only the host's own agent learns that it was revoked or deleted, and it stops.
  if (host.deletedAt) throw new HttpError(403, 'host_revoked', 'This host was deleted; its agent must stop');
  if (host.revokedAt) throw new HttpError(403, 'host_revoked', 'This host has been revoked; its agent must stop');
  return { host, signedAt: verdict.timestamp };
}
