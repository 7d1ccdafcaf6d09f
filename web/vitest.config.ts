import { defineConfig } from 'vitest/config';

// Pure-TypeScript unit tests (no Svelte components yet), so the SvelteKit plugin is not needed here.
export default defineConfig({
  test: {
    name: 'web',
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
