import { getHealth } from '#lib/api/client.ts';

/**
 * What the dashboard knows about the deployment it talks to. `mode` is `local` on `pnpm dev`'s
 * stack, where mail lands in the dev outbox instead of being sent; `null` until known.
 */
class Environment {
  mode = $state<'local' | 'production' | null>(null);
  #started = false;

  get local(): boolean {
    return this.mode === 'local';
  }

  /** Asks `/health` once; later calls are no-ops. */
  load(): void {
    if (this.#started) return;
    this.#started = true;
    getHealth()
      .then((health) => {
        this.mode = health.mode;
      })
      .catch(() => {
        this.#started = false;
      });
  }
}

export const environment = new Environment();
