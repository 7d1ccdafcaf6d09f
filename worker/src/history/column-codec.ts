import { type ByteReader, type ByteWriter, ChunkFormatError } from './bytes.ts';
import { MAX_CODED_INTEGER, readIntegerValues, writeIntegers } from './integer-sequence.ts';

/**
 * One column's values: the stated quantum, which values are present (NaN is a gap), and the present values
 * as integers when that is exact enough, else as float64s.
 *
 * - quantum > 0: values become round(v / quantum) (within quantum/2). A quantum of 1/k (0.01, 0.1) is kept
 *   as the divisor k, so 12.34 decodes to the double nearest 12.34, not 1234 × 0.01 = 12.340000000000002.
 * - quantum 0 (exact): values that are exactly k / 10^d for a small d (integers, or decimals as the agent
 *   rounds them) still become integers, since that loses nothing; anything else is stored bit for bit.
 * - integers beyond MAX_CODED_INTEGER are stored as float64s (exact), whatever the quantum.
 */

const Presence = { All: 0, Bitmap: 1, None: 2 } as const;
const Values = { Divided: 1, Multiplied: 2, Float: 3 } as const;

/** Decimal places tried for exact columns: beyond this, values are rarely decimals and float64 is as small. */
const MAX_EXACT_DECIMALS = 6;

interface IntegerMapping {
  kind: typeof Values.Divided | typeof Values.Multiplied;
  /** The divisor (Divided) or the multiplier (Multiplied) that turns an integer back into a value. */
  factor: number;
  ints: number[];
}

/** A divisor k when quantum is 1/k (within float error), so that decoding divides by an integer. */
function divisorOf(quantum: number): number | null {
  if (quantum > 1) return null;
  const k = Math.round(1 / quantum);
  return Math.abs(k * quantum - 1) < 1e-9 ? k : null;
}

function quantised(values: readonly number[], quantum: number): IntegerMapping | null {
  const divisor = divisorOf(quantum);
  const mapping =
    divisor !== null
      ? { kind: Values.Divided, factor: divisor, ints: values.map((v) => Math.round(v * divisor)) }
      : { kind: Values.Multiplied, factor: quantum, ints: values.map((v) => Math.round(v / quantum)) };
  return mapping.ints.every((n) => Math.abs(n) <= MAX_CODED_INTEGER) ? mapping : null;
}

/** Integers k with k / 10^d === v exactly for every value, for the smallest d that works. */
function exactDecimals(values: readonly number[]): IntegerMapping | null {
  if (values.some((v) => Object.is(v, -0))) return null;
  for (let decimals = 0, factor = 1; decimals <= MAX_EXACT_DECIMALS; decimals++, factor *= 10) {
    const ints: number[] = [];
    for (const v of values) {
      const n = Math.round(v * factor);
      if (n / factor !== v || Math.abs(n) > MAX_CODED_INTEGER) break;
      ints.push(n);
    }
    if (ints.length === values.length) return { kind: Values.Divided, factor, ints };
  }
  return null;
}

/** Float64s XORed with the previous one (slow-moving values share their high bytes), then byte planes. */
function writeFloats(writer: ByteWriter, values: readonly number[]): void {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => {
    view.setFloat64(i * 8, v, true);
  });
  const planes = new Uint8Array(raw.length);
  for (let i = 0; i < values.length; i++) {
    for (let b = 0; b < 8; b++) {
      const previous = i === 0 ? 0 : (raw[(i - 1) * 8 + b] as number);
      planes[b * values.length + i] = (raw[i * 8 + b] as number) ^ previous;
    }
  }
  writer.bytes(planes);
}

function readFloats(reader: ByteReader, count: number): Float64Array {
  const planes = reader.bytes(count * 8, 'float values');
  const raw = new Uint8Array(count * 8);
  for (let i = 0; i < count; i++) {
    for (let b = 0; b < 8; b++) {
      const previous = i === 0 ? 0 : (raw[(i - 1) * 8 + b] as number);
      raw[i * 8 + b] = (planes[b * count + i] as number) ^ previous;
    }
  }
  const view = new DataView(raw.buffer);
  return Float64Array.from({ length: count }, (_, i) => view.getFloat64(i * 8, true));
}

function writePresence(writer: ByteWriter, values: Float64Array, presentCount: number): void {
  if (presentCount === values.length || presentCount === 0) {
    writer.byte(presentCount === 0 ? Presence.None : Presence.All);
    return;
  }
  writer.byte(Presence.Bitmap);
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (!Number.isNaN(v)) bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
  });
  writer.bytes(bitmap);
}

/** The presence bitmap (bit i set: value i present), or null when every value is present. */
function readPresence(reader: ByteReader, length: number): { bitmap: Uint8Array | null; count: number } {
  const presence = reader.byte('presence');
  if (presence === Presence.All) return { bitmap: null, count: length };
  if (presence === Presence.None) return { bitmap: new Uint8Array(Math.ceil(length / 8)), count: 0 };
  if (presence !== Presence.Bitmap) throw new ChunkFormatError(`unknown presence ${presence}`);
  const bitmap = reader.bytes(Math.ceil(length / 8), 'presence bitmap');
  let count = 0;
  for (let i = 0; i < length; i++) count += ((bitmap[i >> 3] as number) >> (i & 7)) & 1;
  return { bitmap, count };
}

export function writeColumnValues(writer: ByteWriter, values: Float64Array, quantum: number): void {
  if (!(quantum >= 0 && Number.isFinite(quantum))) throw new RangeError(`chunk: quantum ${quantum} is not ≥ 0`);
  const present: number[] = [];
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    if (!Number.isFinite(v)) throw new RangeError(`chunk: ${v} is not a storable value (NaN marks a gap)`);
    present.push(v);
  }
  writer.float64(quantum);
  writePresence(writer, values, present.length);
  if (present.length === 0) return;
  const mapping = quantum > 0 ? quantised(present, quantum) : exactDecimals(present);
  if (!mapping) {
    writer.byte(Values.Float);
    writeFloats(writer, present);
    return;
  }
  writer.byte(mapping.kind);
  if (mapping.kind === Values.Divided) writer.varint(mapping.factor);
  else writer.float64(mapping.factor);
  writeIntegers(writer, mapping.ints);
}

export function readColumnValues(reader: ByteReader, length: number): { quantum: number; values: Float64Array } {
  const quantum = reader.float64('quantum');
  if (!(quantum >= 0 && Number.isFinite(quantum))) throw new ChunkFormatError(`bad quantum ${quantum}`);
  const { bitmap, count: presentCount } = readPresence(reader, length);
  if (presentCount === 0) return { quantum, values: new Float64Array(length).fill(Number.NaN) };
  const kind = reader.byte('value encoding');
  let present: Float64Array;
  if (kind === Values.Float) {
    present = readFloats(reader, presentCount);
  } else if (kind === Values.Divided || kind === Values.Multiplied) {
    const factor = kind === Values.Divided ? reader.varint('divisor') : reader.float64('multiplier');
    if (!(factor > 0 && Number.isFinite(factor))) throw new ChunkFormatError(`bad scale ${factor}`);
    present = readIntegerValues(reader, presentCount);
    // Integer back to value: divided by the divisor, or times the multiplier (every value a chart reads).
    if (kind === Values.Divided) for (let i = 0; i < presentCount; i++) present[i] = (present[i] as number) / factor;
    else for (let i = 0; i < presentCount; i++) present[i] = (present[i] as number) * factor;
  } else {
    throw new ChunkFormatError(`unknown value encoding ${kind}`);
  }
  if (bitmap === null) return { quantum, values: present };
  const values = new Float64Array(length).fill(Number.NaN);
  let next = 0;
  for (let i = 0; i < length; i++) {
    if (((bitmap[i >> 3] as number) >> (i & 7)) & 1) values[i] = present[next++] as number;
  }
  return { quantum, values };
}
