import { ChunkFormatError } from './bytes.ts';

/**
 * Raw deflate through the web-standard CompressionStream/DecompressionStream, which workerd and Node both
 * have: no dependency, and the Worker does not pay for a JS inflater. Inflating stops at `maxBytes` so a
 * crafted chunk (deflate expands up to ~1000×) cannot exhaust the isolate's memory.
 */

/** Far above any real chunk (an hour of 1 s data for a hundred series is ~3 MB before compression). */
export const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

async function pipeThrough(
  input: Uint8Array,
  transform: CompressionStream | DecompressionStream,
  maxBytes: number,
): Promise<Uint8Array> {
  const writer = transform.writable.getWriter();
  // The reader below reports any failure; these settle quietly so nothing is left unhandled.
  writer
    .write(input as BufferSource)
    .then(() => writer.close())
    .catch(() => {});
  const reader = transform.readable.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new ChunkFormatError(`inflates past ${maxBytes} bytes`);
    }
    parts.push(value);
  }
  const output = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    output.set(part, offset);
    offset += part.byteLength;
  }
  return output;
}

export function deflateRaw(input: Uint8Array): Promise<Uint8Array> {
  return pipeThrough(input, new CompressionStream('deflate-raw'), Number.POSITIVE_INFINITY);
}

/** Node's stream errors carry their reason in `cause` (zlib's message) or `code`, not always in `message`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message) return error.message;
  if (error.cause instanceof Error && error.cause.message) return error.cause.message;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error.name;
}

export async function inflateRaw(input: Uint8Array, maxBytes = MAX_INFLATED_BYTES): Promise<Uint8Array> {
  try {
    return await pipeThrough(input, new DecompressionStream('deflate-raw'), maxBytes);
  } catch (error) {
    if (error instanceof ChunkFormatError) throw error;
    throw new ChunkFormatError(`corrupt compressed data (${describe(error)})`);
  }
}
