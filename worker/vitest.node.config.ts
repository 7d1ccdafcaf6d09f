import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Worker code that can be checked in Node rather than workerd: tests named `*.node.test.ts`, e.g. the
 * OpenAPI document run through `openapi-typescript` (a Node tool). Durable Object classes come from
 * `cloudflare:workers`, which only workerd has; the stub stands in for the import, never for an object.
 */
export default defineConfig({
  resolve: {
    alias: { 'cloudflare:workers': fileURLToPath(new URL('./test/cloudflare-workers-stub.ts', import.meta.url)) },
  },
  test: { name: 'worker-node', include: ['src/**/*.node.test.ts', 'test/**/*.node.test.ts'], environment: 'node' },
});
