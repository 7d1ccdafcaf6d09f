import { ByteReader, ByteWriter, ChunkFormatError } from './bytes.ts';
import { readColumnValues, writeColumnValues } from './column-codec.ts';
import { deflateRaw, inflateRaw } from './deflate.ts';
import { MAX_CODED_INTEGER, readIntegers, writeIntegers } from './integer-sequence.ts';

/**
 * The immutable, size-encoded chunk that history is stored in (design.md, "Storage"): a period of samples,
 * one timestamp column and any number of value columns.
 *
 * Layout: a version byte, then deflate-raw of
 *   varint n, the n timestamps (integer sequence: delta of delta for regular cadences),
 *   varint column count, per column: name (UTF-8 block) and body (block: quantum, presence, values).
 * Bodies are length-prefixed so that a reader asking for a few columns skips the rest without decoding them.
 */

export interface ChunkColumn {
  /** A series key (`disk.used_pct{mount="/"}`) or a rollup column name (rollup-chunk.ts). */
  name: string;
  /** Values are stored within quantum/2; 0 stores them exactly. */
  quantum: number;
  /** One value per timestamp; NaN is a gap (no value at that time). */
  values: Float64Array;
}

export interface Chunk {
  /** Epoch milliseconds, strictly ascending. */
  timestamps: number[];
  columns: ChunkColumn[];
}

export const CHUNK_FORMAT_VERSION = 1;

export { ChunkFormatError } from './bytes.ts';

function checkChunk(chunk: Chunk): void {
  const { timestamps } = chunk;
  timestamps.forEach((ts, i) => {
    if (!Number.isSafeInteger(ts) || Math.abs(ts) > MAX_CODED_INTEGER) {
      throw new RangeError(`chunk: timestamp ${ts} is not an integer epoch-ms time`);
    }
    if (i > 0 && ts <= (timestamps[i - 1] as number)) {
      throw new RangeError(`chunk: timestamps must be strictly ascending (${timestamps[i - 1]} then ${ts})`);
    }
  });
  const names = new Set<string>();
  for (const column of chunk.columns) {
    if (column.values.length !== timestamps.length) {
      throw new RangeError(
        `chunk: column ${column.name} has ${column.values.length} values for ${timestamps.length} times`,
      );
    }
    if (names.has(column.name)) throw new RangeError(`chunk: column ${column.name} appears twice`);
    names.add(column.name);
  }
}

export async function encodeChunk(chunk: Chunk): Promise<Uint8Array> {
  checkChunk(chunk);
  const writer = new ByteWriter();
  writer.varint(chunk.timestamps.length);
  writeIntegers(writer, chunk.timestamps);
  writer.varint(chunk.columns.length);
  const utf8 = new TextEncoder();
  for (const column of chunk.columns) {
    writer.block(utf8.encode(column.name));
    const body = new ByteWriter();
    writeColumnValues(body, column.values, column.quantum);
    writer.block(body.finish());
  }
  const compressed = await deflateRaw(writer.finish());
  const bytes = new Uint8Array(1 + compressed.length);
  bytes[0] = CHUNK_FORMAT_VERSION;
  bytes.set(compressed, 1);
  return bytes;
}

export interface DecodeOptions {
  /** Decode only these columns (the others are skipped, not decoded); all when absent. */
  columns?: ReadonlySet<string> | ((name: string) => boolean);
}

export async function decodeChunk(bytes: Uint8Array, options: DecodeOptions = {}): Promise<Chunk> {
  if (bytes.length === 0) throw new ChunkFormatError('empty input');
  if (bytes[0] !== CHUNK_FORMAT_VERSION) throw new ChunkFormatError(`unknown format version ${bytes[0]}`);
  const reader = new ByteReader(await inflateRaw(bytes.subarray(1)));
  const count = reader.count('timestamp count');
  const timestamps = readIntegers(reader, count);
  timestamps.forEach((ts, i) => {
    if (!Number.isSafeInteger(ts) || (i > 0 && ts <= (timestamps[i - 1] as number))) {
      throw new ChunkFormatError('timestamps are not strictly ascending integers');
    }
  });
  // A column takes at least 3 bytes: an empty name, its body length and a body of at least one byte.
  const columnCount = reader.count('column count', 3);
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const columns: ChunkColumn[] = [];
  const { columns: only } = options;
  const wanted = only === undefined ? () => true : typeof only === 'function' ? only : (name: string) => only.has(name);
  for (let i = 0; i < columnCount; i++) {
    let name: string;
    try {
      name = utf8.decode(reader.block('column name'));
    } catch (error) {
      if (error instanceof ChunkFormatError) throw error;
      throw new ChunkFormatError('column name is not UTF-8');
    }
    const body = reader.block(`column ${name}`);
    if (!wanted(name)) continue;
    const bodyReader = new ByteReader(body);
    const { quantum, values } = readColumnValues(bodyReader, count);
    bodyReader.end(`column ${name}`);
    columns.push({ name, quantum, values });
  }
  reader.end('the last column');
  return { timestamps, columns };
}
