import type { CpuProfile } from '@pulsewire/stack';
import { describe, expect, it } from 'vitest';
import { bundleModules, moduleName, summarizeProfile } from './cpu-profile.ts';

describe('bundleModules', () => {
  it("maps a bundle's lines to the module esbuild marked above them", () => {
    const bundle = [
      'var x = 1;',
      '// ../node_modules/.pnpm/@neondatabase+serverless@1.2.0/node_modules/@neondatabase/serverless/index.mjs',
      'function neon() {}',
      '// src/ingest/store.ts',
      'async function storeBatch() {',
      '  // a comment inside, not a marker',
      '}',
    ].join('\n');
    const moduleOf = bundleModules(bundle);
    expect(moduleOf(0)).toBeUndefined();
    expect(moduleOf(2)).toContain('@neondatabase+serverless');
    expect(moduleOf(4)).toBe('src/ingest/store.ts');
    expect(moduleOf(6)).toBe('src/ingest/store.ts');
  });
});

describe('moduleName', () => {
  it('names a package by its import name and keeps our own paths', () => {
    expect(
      moduleName(
        '../node_modules/.pnpm/@neondatabase+serverless@1.2.0/node_modules/@neondatabase/serverless/index.mjs',
      ),
    ).toBe('@neondatabase/serverless');
    expect(moduleName('../node_modules/.pnpm/zod@4.1.0/node_modules/zod/v4/core/parse.js')).toBe('zod');
    expect(moduleName('../../protocol/src/batch.ts')).toBe('protocol/src/batch.ts');
  });
});

describe('summarizeProfile', () => {
  it('gives each sample the time to the next one, idle apart, grouped by function and module', () => {
    const frame = (functionName: string, url = '', lineNumber = 0) => ({
      functionName,
      url,
      lineNumber,
      columnNumber: 0,
    });
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3, 4] },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('storeBatch', 'file:///bundle.js', 4) },
        { id: 4, callFrame: frame('(garbage collector)') },
      ],
      startTime: 0,
      endTime: 1000,
      samples: [3, 3, 2, 4, 3],
      timeDeltas: [0, 100, 200, 300, 400],
    };
    const summary = summarizeProfile(profile, (_url, line) => (line >= 3 ? 'src/ingest/store.ts' : undefined));
    // storeBatch: 100 + 200 (the last sample has no successor); idle 300; GC 400.
    expect(summary.idleMs).toBeCloseTo(0.3);
    expect(summary.busyMs).toBeCloseTo(0.7);
    expect(summary.byFunction[0]).toMatchObject({ name: '(garbage collector) (garbage collector)', selfMs: 0.4 });
    expect(summary.byModule.find((m) => m.name === 'src/ingest/store.ts')?.selfMs).toBeCloseTo(0.3);
    expect(summary.byFunction.find((f) => f.name.startsWith('storeBatch'))?.name).toBe(
      'storeBatch src/ingest/store.ts:5',
    );
  });
});
