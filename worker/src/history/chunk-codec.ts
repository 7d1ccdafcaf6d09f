import { ByteReader, ByteWriter, ChunkFormatError } from './bytes.ts';
import { readColumnValues, writeColumnValues } from './column-codec.ts';
import { deflateRaw, inflateRaw } from './deflate.ts';
import { MAX_CODED_INTEGER, readIntegers, writeIntegers } from './integer-sequence.ts';

/**
 * The immutable, size-encoded chunk that history is stored in (design.md, "Storage"): a period of samples,
 * one timestamp column and any number of value columns.
 *
 * Layout (version 2): a version byte, a varint length and deflate-raw of the header:
 *   varint n, the n timestamps (integer sequence: delta of delta for regular cadences),
 *   varint group count, per group: varint compressed length, varint column count, per column its name (UTF-8
 *   block) and its complement reference (varint: 0, or 1 + the index in the header of the column it complements);
 * then each group's deflate-raw stream: its columns' bodies (blocks: quantum, presence, values; for a complement,
 * quantum and the constant C).
 * A complement is a column whose stored values are C − another column's, gap for gap (memory.available and
 * memory.used, disk.free and disk.used, and their rollups: available's min is total − used's max): it costs
 * 16 bytes instead of a second copy of the noise. Columns come back in their groups' order (a group's columns
 * together, groups in the order of their first column).
 * A group is the columns sharing a name up to its last '|' (a rollup chunk's min/avg/max/count of one series);
 * names without one form one group (a raw chunk is one stream). A chart asking for a few series inflates the
 * header and their groups only: a 7-day chart of `cpu.total` no longer inflates the other CPU series' days.
 * Bodies are length-prefixed so that a reader skips a group's columns it did not ask for without decoding them.
 *
 * Version 1 (still decoded): a version byte, then one deflate-raw stream of
 *   varint n, the timestamps, varint column count, per column: name block and body block.
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

export const CHUNK_FORMAT_VERSION = 2;
/** The single-stream format written before column groups; still decoded. */
const SINGLE_STREAM_VERSION = 1;

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

/** The group a column is compressed with: its name before the last '|', or '' (one stream). */
export function columnGroup(name: string): string {
  const bar = name.lastIndexOf('|');
  return bar <= 0 ? '' : name.slice(0, bar);
}

/**
 * The values as the codec stores them, when they are whole numbers that round-trip exactly (quantum 0, or a
 * whole quantum: bytes, counts, pages): what complements are found among. null for other columns.
 */
function storedIntegers(column: ChunkColumn): Float64Array | null {
  const { quantum, values } = column;
  if (!(quantum === 0 || (quantum >= 1 && Number.isInteger(quantum)))) return null;
  const stored = new Float64Array(values.length);
  let present = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) {
      stored[i] = Number.NaN;
      continue;
    }
    const q = quantum === 0 ? v : Math.round(v / quantum) * quantum;
    if (!Number.isSafeInteger(q) || Math.abs(q) > MAX_CODED_INTEGER) return null;
    stored[i] = q;
    present++;
  }
  return present > 0 ? stored : null;
}

/** C when b = C − a at every point (gaps at the same points), else null. */
function complementConstant(a: Float64Array, b: Float64Array): number | null {
  let constant: number | null = null;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (Number.isNaN(x) !== Number.isNaN(y)) return null;
    if (Number.isNaN(x)) continue;
    const sum = x + y;
    if (constant === null) constant = sum;
    else if (sum !== constant) return null;
  }
  return constant !== null && Number.isSafeInteger(constant) ? constant : null;
}

/** For each column, the earlier-listed column (header order) it is the complement of, and C. */
function findComplements(columns: readonly ChunkColumn[]): Map<number, { of: number; constant: number }> {
  const stored = columns.map(storedIntegers);
  const found = new Map<number, { of: number; constant: number }>();
  const bases = new Set<number>();
  stored.forEach((b, j) => {
    if (!b || bases.has(j)) return;
    for (let i = 0; i < columns.length; i++) {
      const a = stored[i];
      // A complement refers to a column stored as itself, never to another complement (no chains, no cycles).
      if (i === j || !a || found.has(i)) continue;
      const constant = complementConstant(a, b);
      if (constant !== null) {
        found.set(j, { of: i, constant });
        bases.add(i);
        return;
      }
    }
  });
  return found;
}

export async function encodeChunk(chunk: Chunk): Promise<Uint8Array> {
  checkChunk(chunk);
  const groups = new Map<string, ChunkColumn[]>();
  for (const column of chunk.columns) {
    const key = columnGroup(column.name);
    const members = groups.get(key);
    if (members) members.push(column);
    else groups.set(key, [column]);
  }
  const ordered = [...groups.values()].flat();
  const complements = findComplements(ordered);
  const header = new ByteWriter();
  header.varint(chunk.timestamps.length);
  writeIntegers(header, chunk.timestamps);
  header.varint(groups.size);
  const utf8 = new TextEncoder();
  const streams: Uint8Array[] = [];
  let index = 0;
  for (const columns of groups.values()) {
    const body = new ByteWriter();
    const names = new ByteWriter();
    for (const column of columns) {
      const complement = complements.get(index++);
      const values = new ByteWriter();
      if (complement) {
        values.float64(column.quantum);
        values.float64(complement.constant);
      } else {
        writeColumnValues(values, column.values, column.quantum);
      }
      body.block(values.finish());
      names.block(utf8.encode(column.name));
      names.varint(complement ? complement.of + 1 : 0);
    }
    const stream = await deflateRaw(body.finish());
    streams.push(stream);
    header.varint(stream.length);
    header.varint(columns.length);
    header.bytes(names.finish());
  }
  const head = new ByteWriter();
  head.byte(CHUNK_FORMAT_VERSION);
  head.block(await deflateRaw(header.finish()));
  const prefix = head.finish();
  const bytes = new Uint8Array(prefix.length + streams.reduce((sum, stream) => sum + stream.length, 0));
  bytes.set(prefix, 0);
  let at = prefix.length;
  for (const stream of streams) {
    bytes.set(stream, at);
    at += stream.length;
  }
  return bytes;
}

export interface DecodeOptions {
  /** Decode only these columns (the others are skipped, not decoded); all when absent. */
  columns?: ReadonlySet<string> | ((name: string) => boolean);
}

function readName(reader: ByteReader, utf8: TextDecoder): string {
  try {
    return utf8.decode(reader.block('column name'));
  } catch (error) {
    if (error instanceof ChunkFormatError) throw error;
    throw new ChunkFormatError('column name is not UTF-8');
  }
}

function readTimestamps(reader: ByteReader): number[] {
  const count = reader.count('timestamp count');
  const timestamps = readIntegers(reader, count);
  for (let i = 0; i < count; i++) {
    const ts = timestamps[i] as number;
    if (!Number.isSafeInteger(ts) || (i > 0 && ts <= (timestamps[i - 1] as number))) {
      throw new ChunkFormatError('timestamps are not strictly ascending integers');
    }
  }
  return timestamps;
}

function readColumn(name: string, body: Uint8Array, count: number): ChunkColumn {
  const bodyReader = new ByteReader(body);
  const { quantum, values } = readColumnValues(bodyReader, count);
  bodyReader.end(`column ${name}`);
  return { name, quantum, values };
}

function wantedOf(options: DecodeOptions): (name: string) => boolean {
  const { columns: only } = options;
  return only === undefined ? () => true : typeof only === 'function' ? only : (name: string) => only.has(name);
}

interface HeaderColumn {
  name: string;
  group: number;
  /** The header index of the column this one complements, or -1. */
  of: number;
}

export async function decodeChunk(bytes: Uint8Array, options: DecodeOptions = {}): Promise<Chunk> {
  if (bytes.length === 0) throw new ChunkFormatError('empty input');
  if (bytes[0] === SINGLE_STREAM_VERSION) return decodeSingleStream(bytes, options);
  if (bytes[0] !== CHUNK_FORMAT_VERSION) throw new ChunkFormatError(`unknown format version ${bytes[0]}`);
  const rest = bytes.subarray(1);
  const outer = new ByteReader(rest);
  const reader = new ByteReader(await inflateRaw(outer.block('header')));
  const timestamps = readTimestamps(reader);
  const count = timestamps.length;
  // A group takes at least 4 header bytes: its length, its column count, a name's length and a reference.
  const groupCount = reader.count('group count', 4);
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const header: HeaderColumn[] = [];
  // Where each group's stream starts in `rest` and how long it is: a view is made only of the groups inflated
  // (a chart asks for one series of a family chunk's dozen or so).
  const streamStarts: number[] = [];
  const streamLengths: number[] = [];
  for (let g = 0; g < groupCount; g++) {
    const length = reader.varint('group length');
    streamStarts.push(outer.skip(length, 'group'));
    streamLengths.push(length);
    // A column takes at least 2 bytes of the header: its name's length and its reference.
    const columnCount = reader.count('column count', 2);
    if (columnCount === 0) throw new ChunkFormatError('an empty column group');
    for (let i = 0; i < columnCount; i++) {
      const name = readName(reader, utf8);
      header.push({ name, group: g, of: reader.varint('complement reference') - 1 });
    }
  }
  reader.end('the chunk header');
  outer.end('the last group');
  header.forEach(({ name, of }, i) => {
    if (of >= header.length || of === i || (of >= 0 && (header[of] as HeaderColumn).of >= 0)) {
      throw new ChunkFormatError(`column ${name} complements a column that cannot be its base`);
    }
  });
  const wantedName = wantedOf(options);
  const wanted = header.map(({ name }) => wantedName(name));
  // Decoded: the wanted columns and the columns they complement.
  const needed = [...wanted];
  header.forEach(({ of }, i) => {
    if (wanted[i] && of >= 0) needed[of] = true;
  });
  const bodies: (Uint8Array | undefined)[] = new Array(header.length);
  let first = 0;
  for (let g = 0; g < groupCount; g++) {
    let last = first;
    while (last < header.length && (header[last] as HeaderColumn).group === g) last++;
    let inflate = false;
    for (let i = first; i < last && !inflate; i++) inflate = needed[i] as boolean;
    if (inflate) {
      const start = streamStarts[g] as number;
      const body = new ByteReader(await inflateRaw(rest.subarray(start, start + (streamLengths[g] as number))));
      for (let i = first; i < last; i++) bodies[i] = body.block(`column ${(header[i] as HeaderColumn).name}`);
      body.end(`the group of ${(header[first] as HeaderColumn).name}`);
    }
    first = last;
  }
  const decoded: (ChunkColumn | undefined)[] = new Array(header.length);
  header.forEach(({ name, of }, i) => {
    if (needed[i] && of < 0) decoded[i] = readColumn(name, bodies[i] as Uint8Array, count);
  });
  const columns: ChunkColumn[] = [];
  header.forEach(({ name, of }, i) => {
    if (!wanted[i]) return;
    if (of < 0) {
      columns.push(decoded[i] as ChunkColumn);
      return;
    }
    const body = new ByteReader(bodies[i] as Uint8Array);
    const quantum = body.float64('quantum');
    const constant = body.float64('complement constant');
    body.end(`column ${name}`);
    if (!(quantum >= 0 && Number.isFinite(quantum))) throw new ChunkFormatError(`bad quantum ${quantum}`);
    if (!Number.isSafeInteger(constant)) throw new ChunkFormatError(`bad complement constant ${constant}`);
    const base = (decoded[of] as ChunkColumn).values;
    const values = new Float64Array(count);
    for (let k = 0; k < count; k++) values[k] = constant - (base[k] as number);
    columns.push({ name, quantum, values });
  });
  return { timestamps, columns };
}

async function decodeSingleStream(bytes: Uint8Array, options: DecodeOptions): Promise<Chunk> {
  const reader = new ByteReader(await inflateRaw(bytes.subarray(1)));
  const timestamps = readTimestamps(reader);
  const count = timestamps.length;
  // A column takes at least 3 bytes: an empty name, its body length and a body of at least one byte.
  const columnCount = reader.count('column count', 3);
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const wanted = wantedOf(options);
  const columns: ChunkColumn[] = [];
  for (let i = 0; i < columnCount; i++) {
    const name = readName(reader, utf8);
    const body = reader.block(`column ${name}`);
    if (wanted(name)) columns.push(readColumn(name, body, count));
  }
  reader.end('the last column');
  return { timestamps, columns };
}
