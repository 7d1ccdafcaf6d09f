import { createApp } from './app.ts';
import type { Env } from './env.ts';

export { RateLimiterObject } from './limits/rate-limiter-object.ts';
export { TenantObject } from './tenant/tenant-object.ts';

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
