import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './worker/src/db/schema.ts',
  out: './drizzle',
});
