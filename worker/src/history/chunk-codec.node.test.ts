import { describe, expect, it } from 'vitest';
import { ByteWriter } from './bytes.ts';
import { type Chunk, ChunkFormatError, decodeChunk, encodeChunk } from './chunk-codec.ts';
import { writeColumnValues } from './column-codec.ts';
import { deflateRaw, inflateRaw } from './deflate.ts';
import { writeIntegers } from './integer-sequence.ts';
import { randomRawChunk, randomSource, randomValues } from './test-series.ts';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 2, 4, 13);

/** Decoded values must be within half a quantum (plus float rounding), and bit-exact for quantum 0. */
function expectRoundTrip(original: Chunk, decoded: Chunk): void {
  expect(decoded.timestamps).toEqual(original.timestamps);
  expect(decoded.columns.map((c) => c.name)).toEqual(original.columns.map((c) => c.name));
  original.columns.forEach((column, c) => {
    const back = decoded.columns[c] as Chunk['columns'][number];
    expect(back.quantum).toBe(column.quantum);
    column.values.forEach((v, i) => {
      const w = back.values[i] as number;
      if (Number.isNaN(v)) expect(w, `${column.name}[${i}] is a gap`).toBeNaN();
      else if (column.quantum === 0) expect(Object.is(v, w), `${column.name}[${i}]: ${w} is ${v}`).toBe(true);
      else {
        const tolerance = column.quantum / 2 + Math.abs(v) * 1e-15;
        expect(Math.abs(w - v), `${column.name}[${i}]: ${w} within ${column.quantum}/2 of ${v}`).toBeLessThanOrEqual(
          tolerance,
        );
      }
    });
  });
}

async function roundTrip(chunk: Chunk): Promise<Chunk> {
  const decoded = await decodeChunk(await encodeChunk(chunk));
  expectRoundTrip(chunk, decoded);
  return decoded;
}

const column = (name: string, quantum: number, values: number[]) => ({
  name,
  quantum,
  values: Float64Array.from(values),
});

describe('chunk codec round trip', () => {
  it('random series: gaps, resets, bursts, constants, 1 s stretches inside 10 s data, holes', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const random = randomSource(seed);
      const keys = Array.from({ length: 14 }, (_, k) => `series.${k}{n="${seed}"}`);
      const chunk = randomRawChunk(random, START + seed * HOUR, HOUR, keys);
      expect(chunk.timestamps.length).toBeGreaterThan(200);
      await roundTrip(chunk);
    }
  });

  it('an empty chunk, a chunk without times, and a single point', async () => {
    await roundTrip({ timestamps: [], columns: [] });
    await roundTrip({ timestamps: [], columns: [column('cpu.total', 0.01, [])] });
    await roundTrip({ timestamps: [START], columns: [column('cpu.total', 0.01, [12.34]), column('x', 0, [Math.PI])] });
    await roundTrip({ timestamps: [START], columns: [column('gap', 1, [Number.NaN])] });
  });

  it('huge, tiny and negative values, and values too large to quantise', async () => {
    const timestamps = [START, START + 1000, START + 11_000, START + 21_000, START + 3_600_000];
    await roundTrip({
      timestamps,
      columns: [
        column('huge.exact', 0, [1e300, -1e300, Number.MAX_VALUE, -Number.MAX_VALUE, 2 ** 60]),
        column('tiny.exact', 0, [5e-324, -5e-324, 1e-300, Number.MIN_VALUE, 0]),
        column('signed.zero', 0, [-0, 0, -0, Number.NaN, -0]),
        column('negative', 0.01, [-12.345, -0.004, -99999.99, -1e-9, 0]),
        // Beyond 2^50 quanta: stored exactly instead.
        column('huge.quantised', 1, [2 ** 52, 2 ** 60 + 4096, -(2 ** 55), 1, 1e20]),
        column('pages', 1, [17 * 2 ** 30, 17 * 2 ** 30 + 4096 * 3, 17 * 2 ** 30 - 4096 * 700, 4096, 0]),
        column('quarter', 0.25, [0.1, 0.2, 0.3, -0.4, 1000.125]),
        column('kibi', 1024, [1_000_000, 2_000_000, 3_000_000.5, 0, 1023]),
        column('decimals.exact', 0, [0.1, 0.2, 12.345, 1e6 + 0.5, -3.25]),
      ],
    });
  });

  it('decodes 12.34 at quantum 0.01 as the double nearest 12.34', async () => {
    const decoded = await roundTrip({ timestamps: [START], columns: [column('cpu.total', 0.01, [12.34])] });
    expect(decoded.columns[0]?.values[0]).toBe(12.34);
  });

  it('quantum 0 keeps arbitrary doubles bit for bit, including counters across a reset', async () => {
    const random = randomSource(99);
    const timestamps = Array.from({ length: 500 }, (_, i) => START + i * 10_000);
    await roundTrip({
      timestamps,
      columns: [
        { name: 'noise', quantum: 0, values: Float64Array.from(timestamps, () => (random() - 0.5) * 1e6) },
        { name: 'counter', quantum: 0, values: randomValues(random, timestamps.length, 'counter', 0.2) },
      ],
    });
  });

  it('decodes only the columns asked for', async () => {
    const chunk = randomRawChunk(randomSource(5), START, HOUR, ['a', 'b', 'c']);
    const decoded = await decodeChunk(await encodeChunk(chunk), { columns: new Set(['c', 'missing']) });
    expect(decoded.columns.map((c) => c.name)).toEqual(['c']);
    expectRoundTrip({ ...chunk, columns: chunk.columns.slice(2) }, decoded);
  });

  it('stores a column that is a constant minus another as a reference, and decodes it alone', async () => {
    const timestamps = Array.from({ length: 360 }, (_, i) => START + i * 10_000);
    const random = randomSource(21);
    const total = 32 * 1024 ** 3;
    const used = timestamps.map((_, i) => (i % 50 === 7 ? Number.NaN : 4096 * Math.round(2e6 + 1e5 * random())));
    const available = used.map((v) => total - v);
    const chunk = {
      timestamps,
      columns: [
        column('memory.available', 1, available),
        column('memory.used', 1, used),
        // Not a complement: one point off.
        column(
          'memory.other',
          1,
          available.map((v, i) => (i === 99 ? v + 1 : v)),
        ),
      ],
    };
    const bytes = await encodeChunk(chunk);
    await roundTrip(chunk);
    const alone = await decodeChunk(bytes, { columns: new Set(['memory.available']) });
    expectRoundTrip({ ...chunk, columns: chunk.columns.slice(0, 1) }, alone);
    const withoutComplement = await encodeChunk({ ...chunk, columns: chunk.columns.slice(1) });
    // The complement costs its name and 16 bytes, not a second copy of the values.
    expect(bytes.length - withoutComplement.length).toBeLessThan(60);
  });

  it('groups the columns of a rollup series and inflates only the groups asked for', async () => {
    const chunk = randomRawChunk(randomSource(8), START, HOUR, ['a|min', 'a|avg', 'b|min', 'b|avg', 'plain']);
    const decoded = await roundTrip(chunk);
    expect(decoded.columns.map((c) => c.name)).toEqual(['a|min', 'a|avg', 'b|min', 'b|avg', 'plain']);
    const bytes = await encodeChunk(chunk);
    // Corrupting a group not asked for does not matter: it is never inflated.
    const only = await decodeChunk(bytes, { columns: new Set(['b|avg']) });
    expect(only.columns.map((c) => c.name)).toEqual(['b|avg']);
    const last = bytes.slice();
    last[last.length - 1] = (last[last.length - 1] as number) ^ 0xff;
    await expect(decodeChunk(last, { columns: new Set(['a|min']) })).resolves.toBeDefined();
  });

  it('still decodes version 1 chunks (one deflate stream)', async () => {
    const chunk = randomRawChunk(randomSource(9), START, HOUR, ['cpu.total', 'custom.x']);
    const writer = new ByteWriter();
    writer.varint(chunk.timestamps.length);
    writeIntegers(writer, chunk.timestamps);
    writer.varint(chunk.columns.length);
    for (const c of chunk.columns) {
      writer.block(new TextEncoder().encode(c.name));
      const body = new ByteWriter();
      writeColumnValues(body, c.values, c.quantum);
      writer.block(body.finish());
    }
    const v1 = Uint8Array.of(1, ...(await deflateRaw(writer.finish())));
    expectRoundTrip(chunk, await decodeChunk(v1));
    expect((await decodeChunk(v1, { columns: new Set(['custom.x']) })).columns.map((c) => c.name)).toEqual([
      'custom.x',
    ]);
    expect((await encodeChunk(chunk))[0]).toBe(2);
  });

  it('column names in any script round-trip, including a leading byte-order mark', async () => {
    await roundTrip({
      timestamps: [START],
      columns: [column('\uFEFFbom', 0, [1]), column('temp{sensor="Ünïcødé 温度 🔥"}', 0.1, [40.5]), column('', 0, [2])],
    });
  });

  it('refuses what it cannot store, naming the problem', async () => {
    await expect(encodeChunk({ timestamps: [START, START], columns: [] })).rejects.toThrow(/strictly ascending/);
    await expect(encodeChunk({ timestamps: [START + 1, START], columns: [] })).rejects.toThrow(/strictly ascending/);
    await expect(encodeChunk({ timestamps: [START + 0.5], columns: [] })).rejects.toThrow(/integer/);
    await expect(encodeChunk({ timestamps: [START], columns: [column('a', 0, [1, 2])] })).rejects.toThrow(/2 values/);
    await expect(
      encodeChunk({ timestamps: [START], columns: [column('a', 0, [1]), column('a', 0, [2])] }),
    ).rejects.toThrow(/twice/);
    await expect(
      encodeChunk({ timestamps: [START], columns: [column('a', 0, [Number.POSITIVE_INFINITY])] }),
    ).rejects.toThrow(/not a storable value/);
    await expect(encodeChunk({ timestamps: [START], columns: [column('a', -1, [1])] })).rejects.toThrow(/quantum/);
  });
});

describe('chunk codec on damaged input', () => {
  /** Anything but a clean ChunkFormatError or a decoded chunk (e.g. a hang, a RangeError) fails the test. */
  async function decodesOrRefuses(bytes: Uint8Array): Promise<'decoded' | 'refused'> {
    try {
      await decodeChunk(bytes);
      return 'decoded';
    } catch (error) {
      expect(error).toBeInstanceOf(ChunkFormatError);
      return 'refused';
    }
  }

  it('refuses empty input, an unknown version and every truncation', async () => {
    await expect(decodeChunk(new Uint8Array())).rejects.toThrow(/empty/);
    const bytes = await encodeChunk(randomRawChunk(randomSource(3), START, 10 * 60_000, ['a', 'b']));
    await expect(decodeChunk(Uint8Array.of(9, ...bytes.subarray(1)))).rejects.toThrow(/version 9/);
    for (let length = 1; length < bytes.length; length++) {
      await expect(decodeChunk(bytes.subarray(0, length))).rejects.toBeInstanceOf(ChunkFormatError);
    }
    await expect(decodeChunk(Uint8Array.of(...bytes, 0))).rejects.toBeInstanceOf(ChunkFormatError);
  });

  it('random bytes, flipped bits and well-compressed garbage decode or are refused cleanly', async () => {
    const random = randomSource(11);
    const valid = await encodeChunk(randomRawChunk(random, START, 10 * 60_000, ['a', 'b', 'c']));
    const outcomes = { decoded: 0, refused: 0 };
    for (let trial = 0; trial < 300; trial++) {
      const flipped = valid.slice();
      const at = 1 + Math.floor(random() * (flipped.length - 1));
      flipped[at] = (flipped[at] as number) ^ (1 << Math.floor(random() * 8));
      outcomes[await decodesOrRefuses(flipped)]++;
      const noise = Uint8Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256));
      outcomes[await decodesOrRefuses(Uint8Array.of(1, ...noise))]++;
      // Valid deflate around a random payload exercises the chunk parser itself.
      const payload = Uint8Array.from({ length: Math.floor(random() * 100) }, () => Math.floor(random() * 256));
      outcomes[await decodesOrRefuses(Uint8Array.of(1, ...(await deflateRaw(payload))))]++;
      // Version 2: a valid header stream around a random payload, then random group bytes.
      const header = await deflateRaw(payload);
      const prefix = new ByteWriter();
      prefix.byte(2);
      prefix.block(header);
      outcomes[await decodesOrRefuses(Uint8Array.of(...prefix.finish(), ...noise))]++;
    }
    expect(outcomes.refused).toBeGreaterThan(0);
  });

  it('stops inflating a bomb instead of running out of memory', async () => {
    const bomb = await deflateRaw(new Uint8Array(80 * 1024 * 1024));
    await expect(decodeChunk(Uint8Array.of(1, ...bomb))).rejects.toThrow(/inflates past/);
  });

  it('refuses a complement that refers to itself, past the end or to another complement', async () => {
    const timestamps = [START, START + 10_000];
    const header = () => {
      const writer = new ByteWriter();
      writer.varint(2);
      writeIntegers(writer, timestamps);
      writer.varint(1);
      return writer;
    };
    for (const refs of [
      [1, 0],
      [3, 0],
      [2, 1],
    ]) {
      const body = new ByteWriter();
      for (let i = 0; i < 2; i++) {
        const values = new ByteWriter();
        values.float64(1);
        values.float64(10);
        body.block(values.finish());
      }
      const stream = await deflateRaw(body.finish());
      const writer = header();
      writer.varint(stream.length);
      writer.varint(2);
      refs.forEach((ref, i) => {
        writer.block(new TextEncoder().encode(`c${i}`));
        writer.varint(ref);
      });
      const out = new ByteWriter();
      out.byte(2);
      out.block(await deflateRaw(writer.finish()));
      out.bytes(stream);
      await expect(decodeChunk(out.finish())).rejects.toThrow(/cannot be its base/);
    }
    expect(await inflateRaw(await deflateRaw(Uint8Array.of(1)))).toEqual(Uint8Array.of(1));
  });
});
