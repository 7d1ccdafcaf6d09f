import { defineConfig } from 'vitest/config';

/** Unit tests of the bench's own helpers; the benchmarks themselves run with `pnpm bench`, never in tests. */
export default defineConfig({
  test: { name: 'bench', include: ['src/**/*.test.ts'], environment: 'node' },
});
