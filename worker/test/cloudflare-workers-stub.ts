/** `cloudflare:workers` for Node tests that import modules declaring Durable Objects (vitest.node.config.ts). */
export class DurableObject<Env = unknown> {
  protected readonly ctx: unknown;
  protected readonly env: Env;
  constructor(ctx: unknown, env: Env) {
    this.ctx = ctx;
    this.env = env;
  }
}
