import { createApp } from './app.ts';
import type { Env } from './env.ts';
import { runScheduledJobs } from './jobs/scheduled.ts';

export { RateLimiterObject } from './limits/rate-limiter-object.ts';
export { TenantObject } from './tenant/tenant-object.ts';

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runScheduledJobs(env).then(() => undefined));
  },
} satisfies ExportedHandler<Env>;
