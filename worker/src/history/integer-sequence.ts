import { type ByteReader, type ByteWriter, ChunkFormatError, unzigzag, zigzag } from './bytes.ts';

/**
 * A sequence of integers (|n| ≤ MAX_CODED_INTEGER) as small residuals that deflate packs well. The encoder
 * tries three predictors and keeps the one with the smallest residuals, divides the residuals by their
 * greatest common divisor (memory and disk sizes move in whole pages, timestamps in whole seconds), and
 * writes them at a fixed width in byte planes: all low bytes, then all second bytes, … A plane of a noisy
 * series' low bytes and a plane of mostly zeros each compress better than the two interleaved.
 *
 * - offset: value − min. Best for noise around a level (a delta of white noise has twice its variance).
 * - delta: value − previous. Best for a level that wanders (memory, disk usage, temperatures).
 * - delta of delta: best for steady slopes (regular timestamps, a counter growing at a steady rate).
 *
 * Layout: predictor byte, base (signed varint: the min, or the first value), divisor (varint; 0 when every
 * residual is 0, and then nothing follows), width in bytes, then the residual planes (unsigned for offset,
 * zigzag otherwise).
 */

/** Every integer written stays within this, so deltas of deltas (4×) and zigzag (2×) stay ≤ 2^53. */
export const MAX_CODED_INTEGER = 2 ** 50;

const Predictor = { Offset: 0, Delta: 1, DeltaOfDelta: 2 } as const;
type Predictor = (typeof Predictor)[keyof typeof Predictor];

/** 7 bytes hold any zigzag residual ≤ 2^53. */
const MAX_WIDTH = 7;

function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y !== 0) {
    const rest = x % y;
    x = y;
    y = rest;
  }
  return x;
}

/** The greatest common divisor of all the values (0 when all are 0), stopping as soon as it is 1. */
function gcdOf(values: readonly number[]): number {
  let divisor = 0;
  for (const v of values) {
    divisor = gcd(divisor, v);
    if (divisor === 1) return 1;
  }
  return divisor;
}

interface Residuals {
  predictor: Predictor;
  base: number;
  values: number[];
}

function residualsOf(ints: readonly number[], predictor: Predictor): Residuals {
  const first = ints[0] as number;
  if (predictor === Predictor.Offset) {
    let base = first;
    for (const n of ints) if (n < base) base = n;
    return { predictor, base, values: ints.map((n) => n - base) };
  }
  const deltas: number[] = [];
  for (let i = 1; i < ints.length; i++) deltas.push((ints[i] as number) - (ints[i - 1] as number));
  if (predictor === Predictor.Delta) return { predictor, base: first, values: deltas };
  return { predictor, base: first, values: deltas.map((d, i) => (i === 0 ? d : d - (deltas[i - 1] as number))) };
}

/** About the bits the residuals carry once divided (a sign bit for the signed predictors). */
function cost({ predictor, values }: Residuals, divisor: number): number {
  if (divisor === 0) return 0;
  let bits = 0;
  for (const v of values) bits += Math.log2(1 + Math.abs(v / divisor)) + (predictor === Predictor.Offset ? 0 : 1);
  return bits;
}

export function writeIntegers(writer: ByteWriter, ints: readonly number[]): void {
  if (ints.length === 0) return;
  let best: { residuals: Residuals; divisor: number; bits: number } | undefined;
  for (const predictor of [Predictor.Delta, Predictor.Offset, Predictor.DeltaOfDelta]) {
    const residuals = residualsOf(ints, predictor);
    const divisor = gcdOf(residuals.values);
    const bits = cost(residuals, divisor);
    if (!best || bits < best.bits) best = { residuals, divisor, bits };
  }
  const { residuals, divisor } = best as NonNullable<typeof best>;
  writer.byte(residuals.predictor);
  writer.signed(residuals.base);
  writer.varint(divisor);
  if (divisor === 0) return;
  const signed = residuals.predictor !== Predictor.Offset;
  const coded = residuals.values.map((v) => (signed ? zigzag(v / divisor) : v / divisor));
  let width = 1;
  for (const c of coded) while (c >= 256 ** width) width++;
  writer.byte(width);
  const planes = new Uint8Array(coded.length * width);
  coded.forEach((c, i) => {
    let rest = c;
    for (let b = 0; b < width; b++) {
      planes[b * coded.length + i] = rest % 256;
      rest = Math.floor(rest / 256);
    }
  });
  writer.bytes(planes);
}

export function readIntegers(reader: ByteReader, count: number): number[] {
  // A plain loop, not Array.from: that walks the typed array's iterator, an object per value for the garbage
  // collector (a week's chart decodes a few dozen chunks' timestamps).
  const values = readIntegerValues(reader, count);
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(values[i] as number);
  return out;
}

/** The integers as float64s (exact: every one is within MAX_CODED_INTEGER), decoded without intermediate arrays. */
export function readIntegerValues(reader: ByteReader, count: number): Float64Array {
  const out = new Float64Array(count);
  if (count === 0) return out;
  const predictor = reader.byte('predictor');
  if (predictor !== Predictor.Offset && predictor !== Predictor.Delta && predictor !== Predictor.DeltaOfDelta) {
    throw new ChunkFormatError(`unknown predictor ${predictor}`);
  }
  const base = reader.signed('base value');
  const divisor = reader.varint('divisor');
  const offset = predictor === Predictor.Offset ? 0 : 1;
  const residualCount = count - offset;
  // A divisor of 0 means every residual is 0 (a constant, or a perfectly steady slope): none were written.
  if (divisor !== 0) {
    const width = reader.byte('residual width');
    if (width < 1 || width > MAX_WIDTH) throw new ChunkFormatError(`bad residual width ${width}`);
    const planes = reader.bytes(residualCount * width, 'residuals');
    const signed = predictor !== Predictor.Offset;
    for (let i = 0; i < residualCount; i++) {
      // One and two bytes (most residuals) without the inner loop.
      let coded: number;
      if (width === 1) coded = planes[i] as number;
      else if (width === 2) coded = (planes[i] as number) + (planes[residualCount + i] as number) * 256;
      else {
        coded = 0;
        for (let b = width - 1; b >= 0; b--) coded = coded * 256 + (planes[b * residualCount + i] as number);
      }
      out[i + offset] = (signed ? unzigzag(coded) : coded) * divisor;
    }
  }
  if (predictor === Predictor.Offset) {
    for (let i = 0; i < count; i++) out[i] = (out[i] as number) + base;
    return out;
  }
  out[0] = base;
  let delta = 0;
  for (let i = 1; i < count; i++) {
    delta = predictor === Predictor.Delta ? (out[i] as number) : delta + (out[i] as number);
    out[i] = (out[i - 1] as number) + delta;
  }
  return out;
}
