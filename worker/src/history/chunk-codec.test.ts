import { describe, expect, it } from 'vitest';
import { ChunkFormatError, decodeChunk, encodeChunk } from './chunk-codec.ts';
import { deflateRaw } from './deflate.ts';

/**
 * The codec's zlib inside workerd itself (the thorough round trips run in Node: chunk-codec.node.test.ts):
 * the Worker must have raw deflate (node:zlib), and report corrupt and oversized input the same way.
 */
describe('chunk codec in workerd', () => {
  it('round-trips a chunk and refuses a truncated one or one with bytes after its end', async () => {
    const start = Date.UTC(2026, 2, 4);
    const timestamps = Array.from({ length: 400 }, (_, i) => start + i * 10_000);
    const chunk = {
      timestamps,
      columns: [
        { name: 'cpu.total', quantum: 0.01, values: Float64Array.from(timestamps, (_, i) => (i % 7) * 3.25) },
        // A complement (total − used): stored as a reference to memory.used and a constant.
        { name: 'memory.used', quantum: 1, values: Float64Array.from(timestamps, (_, i) => 4096 * (1000 + (i % 13))) },
        {
          name: 'memory.available',
          quantum: 1,
          values: Float64Array.from(timestamps, (_, i) => 2 ** 35 - 4096 * (1000 + (i % 13))),
        },
        {
          name: 'custom.x',
          quantum: 0,
          values: Float64Array.from(timestamps, (_, i) => (i % 5 ? Math.PI * i : Number.NaN)),
        },
      ],
    };
    const bytes = await encodeChunk(chunk);
    expect(await decodeChunk(bytes)).toEqual(chunk);
    const alone = await decodeChunk(bytes, { columns: new Set(['memory.available']) });
    expect(alone.columns).toEqual([chunk.columns[2]]);
    await expect(decodeChunk(bytes.subarray(0, bytes.length - 3))).rejects.toBeInstanceOf(ChunkFormatError);
    await expect(decodeChunk(Uint8Array.of(...bytes, 0))).rejects.toBeInstanceOf(ChunkFormatError);
  });

  it('stops inflating a crafted chunk at the bound', async () => {
    const bomb = await deflateRaw(new Uint8Array(80 * 1024 * 1024));
    await expect(decodeChunk(Uint8Array.of(1, ...bomb))).rejects.toThrow(/inflates past/);
  });
});
