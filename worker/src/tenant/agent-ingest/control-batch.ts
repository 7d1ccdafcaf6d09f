import {
  ControlAgentMessage,
  guardedParser,
  HEADER_BATCH,
  HEADER_HOST,
  type HostKey,
  type IngestBatch,
  importPublicKey,
  SIGNATURE_WINDOW_MS,
  verifyIngestSignature,
} from '@pulsewire/protocol';
import { HttpError } from '../../http/errors.ts';
import { signatureRefusal } from '../../ingest/host-auth.ts';
import { parseSignedBatch } from '../../ingest/parse-batch.ts';

/** The host a control socket was authenticated for, with the key the Worker checked the upgrade with. */
export interface SocketHost {
  hostId: string;
  publicKey: string;
}

export type ControlBatchReading =
  /** A batch whose signature holds and whose body is a valid batch of this host, ready to store. */
  | { kind: 'batch'; batch: IngestBatch; dropped: number; signedAt: number }
  /** A batch refused as the HTTP push would be (the answer is a `nack` with this error). */
  | { kind: 'refused'; batchId: string; error: HttpError }
  /** Not a batch at all: the socket is closed, as for any message an agent does not send. */
  | { kind: 'unexpected' };

const encoder = new TextEncoder();
const parseMessage = guardedParser(ControlAgentMessage);

/** Imported public keys by their stored form: an import per message would cost more than the check. */
export class HostKeys {
  readonly #keys = new Map<string, Promise<HostKey>>();
  readonly #max: number;

  constructor(max = 10_000) {
    this.#max = max;
  }

  get(publicKey: string): Promise<HostKey> {
    let key = this.#keys.get(publicKey);
    if (!key) {
      if (this.#keys.size >= this.#max) this.#keys.delete(this.#keys.keys().next().value as string);
      key = importPublicKey(publicKey);
      // A key that does not import is not kept: the next message tries again (and is refused again).
      key.catch(() => this.#keys.delete(publicKey));
      this.#keys.set(publicKey, key);
    }
    return key;
  }
}

function batchIdOf(message: unknown): string | null {
  if (typeof message !== 'object' || message === null) return null;
  const { type, headers } = message as { type?: unknown; headers?: unknown };
  if (type !== 'batch' || typeof headers !== 'object' || headers === null) return null;
  const id = (headers as Record<string, unknown>)[HEADER_BATCH];
  return typeof id === 'string' && id.length <= 64 ? id : null;
}

/**
 * Reads one message an agent sent on its control socket as a stored batch, checked exactly as an HTTP push is
 * (signature over the body's bytes, the clock window, the schema, the signed host and batch ids), so the socket
 * is no easier a way in than the POST. Refusals carry the push's status and error code.
 */
export async function readControlBatch(
  raw: string | ArrayBuffer,
  socket: SocketHost,
  keys: HostKeys,
  now = Date.now(),
): Promise<ControlBatchReading> {
  if (typeof raw !== 'string') return { kind: 'unexpected' };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { kind: 'unexpected' };
  }
  const parsed = parseMessage(json);
  if (!parsed.success) {
    const batchId = batchIdOf(json);
    if (batchId === null) return { kind: 'unexpected' };
    const issue = parsed.error.issues[0];
    const path = issue?.path.map(String).join('.') ?? '';
    return {
      kind: 'refused',
      batchId,
      error: new HttpError(400, 'bad_request', `${path || 'message'}: ${issue?.message ?? 'invalid'}`, { path }),
    };
  }
  const { headers, body } = parsed.data;
  const batchId = headers[HEADER_BATCH];
  const refused = (error: HttpError): ControlBatchReading => ({ kind: 'refused', batchId, error });
  // The socket speaks for one host: a batch signed for another is refused whatever its signature.
  if (headers[HEADER_HOST] !== socket.hostId) {
    return refused(new HttpError(401, 'bad_signature', 'This batch is signed for another host than the socket'));
  }
  let key: HostKey;
  try {
    key = await keys.get(socket.publicKey);
  } catch {
    return refused(new HttpError(401, 'bad_signature', 'The stored public key is not a raw Ed25519 key'));
  }
  const verdict = await verifyIngestSignature({
    headers,
    body: encoder.encode(body) as Uint8Array<ArrayBuffer>,
    publicKey: key,
    now,
    windowMs: SIGNATURE_WINDOW_MS,
  });
  if (!verdict.ok) return refused(signatureRefusal(verdict));
  let batchJson: unknown;
  try {
    batchJson = JSON.parse(body);
  } catch {
    return refused(new HttpError(400, 'invalid_json', 'The batch body is not valid JSON'));
  }
  try {
    const { batch, dropped } = parseSignedBatch(batchJson, {
      hostId: socket.hostId,
      batchId,
      signedAt: verdict.timestamp,
    });
    return { kind: 'batch', batch, dropped, signedAt: verdict.timestamp };
  } catch (error) {
    if (error instanceof HttpError) return refused(error);
    throw error;
  }
}
