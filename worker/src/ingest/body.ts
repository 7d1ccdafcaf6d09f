import { HttpError } from '../http/errors.ts';

const tooLarge = (limit: number) =>
  new HttpError(413, 'payload_too_large', `Request body exceeds ${Math.round(limit / 1024)} KiB`);

/**
 * Reads a stream to bytes, stopping as soon as it passes `limit` so a huge body costs nothing. A stream that
 * fails mid-way (the client went away, or gunzip met bad bytes) is `cutOff()`: a 4xx, not an unhandled error.
 */
async function readCapped(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  cutOff: () => HttpError,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch {
      throw cutOff();
    }
    const { done, value } = next;
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** The exact bytes on the wire (what the signature covers), refusing more than `limit`. */
export async function readBody(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(request.headers.get('Content-Length') ?? Number.NaN);
  if (declared > limit) throw tooLarge(limit);
  if (!request.body) return new Uint8Array(0);
  return readCapped(
    request.body,
    limit,
    () => new HttpError(400, 'bad_request', 'The request body ended early (the client disconnected)'),
  );
}

/** Gunzips when the agent says so; the decoded size is capped too, against compression bombs. */
export async function decodeBody(
  bytes: Uint8Array<ArrayBuffer>,
  encoding: string | null,
  decodedLimit: number,
): Promise<Uint8Array<ArrayBuffer>> {
  // Content codings are case-insensitive (RFC 9110 §8.4.1): `GZIP` is gzip.
  const coding = encoding?.trim().toLowerCase();
  if (!coding || coding === 'identity') return bytes;
  if (coding !== 'gzip') {
    throw new HttpError(415, 'unsupported_media_type', `Content-Encoding ${encoding} is not supported; use gzip`);
  }
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return readCapped(stream, decodedLimit, () => new HttpError(400, 'bad_request', 'Body is not valid gzip'));
}

export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw new HttpError(400, 'invalid_json', 'Request body is not valid JSON');
  }
}
