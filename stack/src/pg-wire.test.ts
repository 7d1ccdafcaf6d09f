import { describe, expect, it } from 'vitest';
import { FrontendSplitter, ReadyWatcher } from './pg-wire.ts';

const int32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const typed = (type: string, body: number[]) => [type.charCodeAt(0), ...int32(body.length + 4), ...body];
const startup = () => {
  const body = [...int32(196608), ...Buffer.from('user\0postgres\0\0')];
  return [...int32(body.length + 4), ...body];
};
const ready = (status: string) => typed('Z', [status.charCodeAt(0)]);

function inChunks(bytes: number[], size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(Uint8Array.from(bytes.slice(i, i + size)));
  return chunks;
}

describe('FrontendSplitter', () => {
  it('cuts an SSLRequest, the startup message and typed messages apart across any chunking', () => {
    const stream = [...int32(8), ...int32(80877103), ...startup(), ...typed('P', [0, 0, 0, 0, 0]), ...typed('S', [])];
    for (const size of [1, 3, 7, 1000]) {
      const splitter = new FrontendSplitter();
      const messages = inChunks(stream, size).flatMap((chunk) => splitter.push(Buffer.from(chunk)));
      expect(messages.map((m) => (m.kind === 'typed' ? m.type : m.kind))).toEqual(['ssl', 'startup', 'P', 'S']);
    }
  });
});

describe('ReadyWatcher', () => {
  it('is idle only when the output so far ends with ReadyForQuery in the idle state', () => {
    const cases: [number[], boolean][] = [
      [[...typed('1', []), ...typed('2', []), ...ready('I')], true],
      [[...ready('I'), ...typed('1', [])], false],
      [[...typed('C', [...Buffer.from('BEGIN\0')]), ...ready('T')], false],
      [[...typed('E', [...Buffer.from('SERROR\0\0')]), ...ready('E')], false],
      [[...ready('I')].slice(0, 5), false],
    ];
    for (const [stream, idle] of cases) {
      for (const size of [1, 2, 1000]) {
        const watcher = new ReadyWatcher();
        for (const chunk of inChunks(stream, size)) watcher.push(chunk);
        expect(watcher.idle).toBe(idle);
      }
    }
  });
});
