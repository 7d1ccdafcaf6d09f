import type { Env } from '../env.ts';

/** Hono's type parameters for every router: bindings plus per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: { requestId: string };
}
