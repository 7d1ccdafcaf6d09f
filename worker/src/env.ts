import { z } from 'zod';
import { ALERT_MEMORY_BUDGET_BYTES } from './alerts/memory-budget.ts';
import type { RateLimiterObject } from './limits/rate-limiter-object.ts';
import type { TenantObject } from './tenant/tenant-object.ts';

/** Bindings declared in wrangler.toml; plain vars are validated by `parseConfig`. */
export interface Env {
  TENANT: DurableObjectNamespace<TenantObject>;
  RATE_LIMITER: DurableObjectNamespace<RateLimiterObject>;
  /** Pushes per host (wrangler.toml `[[ratelimits]]`); absent in tests that build an env by hand. */
  INGEST_LIMITER?: RateLimit;
  ASSETS?: Fetcher;
  /** The agent executables, too large for static assets (src/downloads.ts). */
  DOWNLOADS?: R2Bucket;
  DATABASE_URL?: string;
  PG_RELAY?: string;
  PULSEWIRE_MODE?: string;
  RESEND_API_KEY?: string;
  RESEND_BASE_URL?: string;
  MAIL_FROM?: string;
  PUBLIC_URL?: string;
  INGEST_IDLE_COLLECT_MS?: string;
  INGEST_IDLE_PUSH_MS?: string;
  STREAM_MAX_CONNECTIONS_PER_TENANT?: string;
  STREAM_MAX_CONNECTIONS_PER_USER?: string;
  NOTIFY_RETRY_SCALE?: string;
  NOTIFY_TIMEOUT_MS?: string;
  ALERT_MEMORY_BUDGET_BYTES?: string;
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
  /** Without it, local mode puts mail in the dev outbox; production refuses to pretend it sent mail. */
  RESEND_API_KEY: z.string().min(1).optional(),
  /** Only tests set this, to point the Resend SDK at a local fake. */
  RESEND_BASE_URL: z.url().optional(),
  MAIL_FROM: z.string().min(3).default('Pulsewire <no-reply@pulsewire.dev>'),
  /** Origin used in e-mailed links; defaults to the origin of the request that caused the mail. */
  PUBLIC_URL: z.url().optional(),
  /** Idle cadence told to agents nobody watches live: the service's cost/freshness trade-off. */
  INGEST_IDLE_COLLECT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(10_000),
  INGEST_IDLE_PUSH_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  /** Live dashboard sockets (`GET /api/v1/stream`) one organisation may hold open at once. */
  STREAM_MAX_CONNECTIONS_PER_TENANT: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** Live dashboard sockets one user (or one read API key) may hold open at once. */
  STREAM_MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).max(100_000).default(50),
  /** Tests only: shortens the notification retry schedule (Standard Webhooks') by this factor. */
  NOTIFY_RETRY_SCALE: z.coerce.number().min(0.000001).max(1).optional(),
  /** How long one notification attempt may take (Standard Webhooks suggests 15–30 s). */
  NOTIFY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
  /**
   * Memory alert evaluation may take in a tenant object (docs/decisions.md, "Alerts"); the API refuses
   * rules that would not fit (`too_many_series`). Tests lower it.
   */
  ALERT_MEMORY_BUDGET_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(96 * 1024 * 1024)
    .default(ALERT_MEMORY_BUDGET_BYTES),
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
    RESEND_API_KEY: env.RESEND_API_KEY || undefined,
    RESEND_BASE_URL: env.RESEND_BASE_URL || undefined,
    MAIL_FROM: env.MAIL_FROM || undefined,
    PUBLIC_URL: env.PUBLIC_URL || undefined,
    INGEST_IDLE_COLLECT_MS: env.INGEST_IDLE_COLLECT_MS || undefined,
    INGEST_IDLE_PUSH_MS: env.INGEST_IDLE_PUSH_MS || undefined,
    STREAM_MAX_CONNECTIONS_PER_TENANT: env.STREAM_MAX_CONNECTIONS_PER_TENANT || undefined,
    STREAM_MAX_CONNECTIONS_PER_USER: env.STREAM_MAX_CONNECTIONS_PER_USER || undefined,
    NOTIFY_RETRY_SCALE: env.NOTIFY_RETRY_SCALE || undefined,
    NOTIFY_TIMEOUT_MS: env.NOTIFY_TIMEOUT_MS || undefined,
    ALERT_MEMORY_BUDGET_BYTES: env.ALERT_MEMORY_BUDGET_BYTES || undefined,
  });
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`invalid Worker configuration: ${issue?.path.join('.')} ${issue?.message}`);
  }
  configCache.set(env, result.data);
  return result.data;
}
