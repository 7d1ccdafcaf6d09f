import { z } from 'zod';
import type { TenantObject } from './tenant/tenant-object.ts';

/** Bindings declared in wrangler.toml; plain vars are validated by `parseConfig`. */
export interface Env {
  TENANT: DurableObjectNamespace<TenantObject>;
  ASSETS?: Fetcher;
  DATABASE_URL?: string;
  PG_RELAY?: string;
  PULSEWIRE_MODE?: string;
}

const ConfigSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /**
   * host:port of the local WebSocket→TCP relay. Set only on the embedded stack, where there is
   * no Neon proxy; the Worker then reaches Postgres through the same Neon driver as in production.
   */
  PG_RELAY: z
    .string()
    .regex(/^[\w.-]+:\d{1,5}$/, 'must be host:port')
    .optional(),
  PULSEWIRE_MODE: z.enum(['local', 'production']).default('production'),
});

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const configCache = new WeakMap<object, Config>();

/** Env is input from outside like any other: parse it once per env object and fail loudly. */
export function parseConfig(env: Env): Config {
  const cached = configCache.get(env);
  if (cached) return cached;
  const result = ConfigSchema.safeParse({
    DATABASE_URL: env.DATABASE_URL || undefined,
    PG_RELAY: env.PG_RELAY || undefined,
    PULSEWIRE_MODE: env.PULSEWIRE_MODE || undefined,
  });
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`invalid Worker configuration: ${issue?.path.join('.')} ${issue?.message}`);
  }
  configCache.set(env, result.data);
  return result.data;
}
