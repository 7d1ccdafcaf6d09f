import { describe, expect, it } from 'vitest';
import { TerminateWatcher } from './pg-terminate.ts';

const int32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const startup = () => {
  const body = [...int32(196608), ...Buffer.from('user\0postgres\0\0')];
  return [...int32(body.length + 4), ...body];
};
const sslRequest = () => [...int32(8), ...int32(80877103)];
const typed = (type: string, body: number[]) => [type.charCodeAt(0), ...int32(body.length + 4), ...body];
/** A simple query whose text contains the bytes of a Terminate message: only framing can tell them apart. */
const query = () => typed('Q', [...Buffer.from('select 1 -- '), 0x58, 0, 0, 0, 4, 0]);
const terminate = () => typed('X', []);

describe('TerminateWatcher', () => {
  it('sees Terminate after the startup message and queries, not inside a query', () => {
    const watcher = new TerminateWatcher();
    expect(watcher.push(Uint8Array.from([...startup(), ...query()]))).toBe(false);
    expect(watcher.push(Uint8Array.from(query()))).toBe(false);
    expect(watcher.push(Uint8Array.from(terminate()))).toBe(true);
  });

  it('follows the framing across chunk boundaries of any size, after an SSLRequest', () => {
    const stream = [...sslRequest(), ...startup(), ...query(), ...query(), ...terminate()];
    for (const size of [1, 2, 3, 5, 7, 64]) {
      const watcher = new TerminateWatcher();
      const seen: boolean[] = [];
      for (let i = 0; i < stream.length; i += size) seen.push(watcher.push(Uint8Array.from(stream.slice(i, i + size))));
      expect(seen.at(-1)).toBe(true);
      expect(seen.slice(0, -1).every((s) => !s)).toBe(true);
    }
  });

  it('does not mistake a startup message for typed traffic', () => {
    const watcher = new TerminateWatcher();
    expect(watcher.push(Uint8Array.from(startup()))).toBe(false);
  });
});
