import { defineConfig } from 'vitest/config';

/** `pnpm test` runs every project: node packages, the Worker inside workerd, and the browser e2e. */
export default defineConfig({
  test: {
    projects: ['protocol', 'stack', 'agent', 'bench', 'web', 'worker', 'worker/vitest.node.config.ts', 'e2e'],
  },
});
