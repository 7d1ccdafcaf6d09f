import { guardedParser, IngestBatch } from '@pulsewire/protocol';
import { HttpError } from '../http/errors.ts';
import { withoutFutureItems } from './timestamps.ts';

/** What the verified signature vouches for: the host, the batch id it signed, and when it signed. */
export interface SignedBatchClaims {
  hostId: string;
  batchId: string | undefined;
  signedAt: number;
}

/**
 * Parses a batch whose signature held, as an HTTP push and a control-socket batch both are: the schema (422 with
 * the first invalid field's path), the body's host and batch ids against the signed ones (400), then the items
 * stamped after the signature's clock left out (`dropped`, timestamps.ts).
 */
/** Most batches are well formed: a guard built from the schema answers those without zod (fast-guard.ts). */
const parseBatch = guardedParser(IngestBatch);

export function parseSignedBatch(json: unknown, claims: SignedBatchClaims): { batch: IngestBatch; dropped: number } {
  const parsed = parseBatch(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.map(String).join('.') ?? '';
    throw new HttpError(422, 'validation_failed', `${path || 'batch'}: ${issue?.message ?? 'invalid'}`, { path });
  }
  if (parsed.data.host_id !== claims.hostId || parsed.data.batch_id !== claims.batchId) {
    throw new HttpError(400, 'bad_request', 'host_id and batch_id in the body must match the signed headers');
  }
  return withoutFutureItems(parsed.data, claims.signedAt);
}
