import { describe, expect, it } from 'vitest';
import { bytesFromDriver } from './schema.ts';

describe('bytea from the driver', () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const hex = Array.from(all, (b) => b.toString(16).padStart(2, '0')).join('');

  it('reads Postgres hex text, either case, with or without its \\x', () => {
    expect(bytesFromDriver(`\\x${hex}`)).toEqual(all);
    expect(bytesFromDriver(hex.toUpperCase())).toEqual(all);
    expect(bytesFromDriver('\\x')).toEqual(new Uint8Array(0));
  });

  it('views a parsed buffer as a plain Uint8Array, without copying it', () => {
    const buffer = Buffer.from(hex, 'hex');
    const view = bytesFromDriver(buffer);
    expect(view).toEqual(all);
    expect(view.constructor).toBe(Uint8Array);
    expect(view.buffer).toBe(buffer.buffer);
  });
});
