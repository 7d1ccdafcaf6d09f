import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ChunkFormatError } from './bytes.ts';

/**
 * Raw deflate through `node:zlib`'s one-shot functions, which workerd (nodejs_compat) and Node both have: no
 * dependency, no JS inflater. The one-shot calls, not CompressionStream: a stream costs a round of promises
 * per chunk (and in Node a hop to the thread pool), twice the inflating itself for the ~30 kB chunks a chart
 * reads by the dozen. Inflating stops at `maxBytes` so a crafted chunk (deflate expands up to ~1000×) cannot
 * exhaust the isolate's memory.
 */

/** Far above any real chunk (an hour of 1 s data for a hundred series is ~3 MB before compression). */
export const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

const asBytes = (buffer: Uint8Array) => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);

export async function deflateRaw(input: Uint8Array): Promise<Uint8Array> {
  return asBytes(deflateRawSync(input));
}

/** Node's errors carry their reason in `message` or `code` (zlib's). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message) return error.message;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error.name;
}

export async function inflateRaw(input: Uint8Array, maxBytes = MAX_INFLATED_BYTES): Promise<Uint8Array> {
  let result: { buffer: Uint8Array; engine: { bytesWritten: number } };
  try {
    // `info`: the engine says how much input it used, so bytes after the compressed stream are caught
    // (the one-shot call ignores them; a stored chunk never has any).
    // `chunkSize`: the output buffer zlib starts with (16 kB by default, allocated per call). A chart inflates
    // dozens of small streams (a rollup group: a few kB), so it is sized from the input: deflated history is
    // ~2-4 times smaller than it inflates to, and a larger output only takes a second buffer.
    const chunkSize = Math.min(64 * 1024, Math.max(1024, input.byteLength * 4));
    result = inflateRawSync(input, { maxOutputLength: maxBytes, info: true, chunkSize }) as unknown as typeof result;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      throw new ChunkFormatError(`inflates past ${maxBytes} bytes`);
    }
    throw new ChunkFormatError(`corrupt compressed data (${describe(error)})`);
  }
  if (result.engine.bytesWritten !== input.byteLength) {
    throw new ChunkFormatError('corrupt compressed data (bytes after its end)');
  }
  return asBytes(result.buffer);
}
