import { describe, expect, it } from 'vitest';
import { ChunkFormatError, decodeChunk, encodeChunk } from './chunk-codec.ts';

/**
 * The codec's streams inside workerd itself (the thorough round trips run in Node: chunk-codec.node.test.ts):
 * the Worker must have `deflate-raw`, and report corrupt input the same way.
 */
describe('chunk codec in workerd', () => {
  it('round-trips a chunk and refuses a truncated one', async () => {
    const start = Date.UTC(2026, 2, 4);
    const timestamps = Array.from({ length: 400 }, (_, i) => start + i * 10_000);
    const chunk = {
      timestamps,
      columns: [
        { name: 'cpu.total', quantum: 0.01, values: Float64Array.from(timestamps, (_, i) => (i % 7) * 3.25) },
        {
          name: 'custom.x',
          quantum: 0,
          values: Float64Array.from(timestamps, (_, i) => (i % 5 ? Math.PI * i : Number.NaN)),
        },
      ],
    };
    const bytes = await encodeChunk(chunk);
    expect(await decodeChunk(bytes)).toEqual(chunk);
    await expect(decodeChunk(bytes.subarray(0, bytes.length - 3))).rejects.toBeInstanceOf(ChunkFormatError);
  });
});
