/**
 * Byte-level building blocks of the chunk format: unsigned LEB128 varints, zigzag for signed integers,
 * little-endian float64s. Integers are JS numbers, so varints go up to 2^53 (every integer the codec writes
 * stays below that: see MAX_CODED_INTEGER in integer-sequence.ts). The reader throws a ChunkFormatError on any
 * truncation or impossible value, so a corrupt chunk fails loudly instead of decoding nonsense.
 */

export class ChunkFormatError extends Error {
  override name = 'ChunkFormatError';
  constructor(message: string) {
    super(`chunk: ${message}`);
  }
}

/** A varint of this many bytes holds 56 bits, more than any value written (≤ 2^53). */
const MAX_VARINT_BYTES = 8;
const TWO_POW_53 = 2 ** 53;

export function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

export function unzigzag(value: number): number {
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}

export class ByteWriter {
  #buffer = new Uint8Array(256);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#buffer.length) return;
    let size = this.#buffer.length * 2;
    while (size < this.#length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
  }

  byte(value: number): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = value;
  }

  /** A non-negative integer ≤ 2^53, 7 bits per byte, low bits first. */
  varint(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > TWO_POW_53) {
      throw new RangeError(`chunk: cannot write ${value} as a varint`);
    }
    this.#reserve(MAX_VARINT_BYTES);
    let rest = value;
    while (rest >= 0x80) {
      this.#buffer[this.#length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.#buffer[this.#length++] = rest;
  }

  signed(value: number): void {
    this.varint(zigzag(value));
  }

  float64(value: number): void {
    this.#reserve(8);
    new DataView(this.#buffer.buffer).setFloat64(this.#length, value, true);
    this.#length += 8;
  }

  bytes(data: Uint8Array): void {
    this.#reserve(data.length);
    this.#buffer.set(data, this.#length);
    this.#length += data.length;
  }

  /** A varint byte length, then the bytes. */
  block(data: Uint8Array): void {
    this.varint(data.length);
    this.bytes(data);
  }

  finish(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }
}

export class ByteReader {
  readonly #bytes: Uint8Array;
  #offset = 0;
  #view: DataView | undefined;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  #need(count: number, what: string): void {
    if (count > this.remaining) throw new ChunkFormatError(`truncated (${what})`);
  }

  byte(what = 'a byte'): number {
    this.#need(1, what);
    return this.#bytes[this.#offset++] as number;
  }

  varint(what = 'a varint'): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = this.byte(what);
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > TWO_POW_53) throw new ChunkFormatError(`${what} out of range`);
        return value;
      }
      scale *= 0x80;
    }
    throw new ChunkFormatError(`${what} is too long`);
  }

  signed(what = 'a signed varint'): number {
    return unzigzag(this.varint(what));
  }

  /** A count of items that each take at least `minBytesEach` bytes: bounded by what is left to read. */
  count(what: string, minBytesEach = 1): number {
    const value = this.varint(what);
    if (value * minBytesEach > this.remaining) throw new ChunkFormatError(`${what} ${value} exceeds the data`);
    return value;
  }

  float64(what = 'a float64'): number {
    this.#need(8, what);
    // One view per reader, made on first use, not one per value (a chart reads a few per column it decodes).
    this.#view ??= new DataView(this.#bytes.buffer, this.#bytes.byteOffset, this.#bytes.byteLength);
    const value = this.#view.getFloat64(this.#offset, true);
    this.#offset += 8;
    return value;
  }

  bytes(length: number, what = 'bytes'): Uint8Array {
    this.#need(length, what);
    const slice = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return slice;
  }

  /** Skips `length` bytes, returning where they start. */
  skip(length: number, what = 'bytes'): number {
    this.#need(length, what);
    const start = this.#offset;
    this.#offset += length;
    return start;
  }

  block(what: string): Uint8Array {
    return this.bytes(this.varint(`${what} length`), what);
  }

  /** The whole input must have been read: trailing bytes mean a corrupt or misframed chunk. */
  end(what: string): void {
    if (this.remaining !== 0) throw new ChunkFormatError(`${this.remaining} unexpected bytes after ${what}`);
  }
}
