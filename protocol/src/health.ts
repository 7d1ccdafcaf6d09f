import * as z from 'zod';

export const DatabaseHealth = z
  .object({
    ok: z.boolean(),
    /** Round-trip of `select 1` through the Neon driver, in milliseconds. */
    latencyMs: z.number().nonnegative().optional(),
    /** The server's `version()` string when reachable. */
    serverVersion: z.string().optional(),
    /** A short, non-sensitive reason when unreachable. */
    error: z.string().optional(),
  })
  .meta({ id: 'DatabaseHealth' });

export const HealthResponse = z
  .object({
    status: z.enum(['ok', 'degraded']),
    service: z.literal('pulsewire'),
    version: z.string(),
    /** `local` when running on the embedded stack, `production` otherwise. */
    mode: z.enum(['local', 'production']),
    time: z.iso.datetime(),
    database: DatabaseHealth,
  })
  .meta({ id: 'HealthResponse' });
export type HealthResponse = z.infer<typeof HealthResponse>;
