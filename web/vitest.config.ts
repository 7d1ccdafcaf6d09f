import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

// Unit tests in Node. The Svelte plugin compiles `.svelte.ts` modules so runes classes (`$state`,
// `$derived`) can be tested directly (server build: effects do not run here).
export default defineConfig({
  plugins: [svelte()],
  test: {
    name: 'web',
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
