import { Labels } from '@pulsewire/protocol';
import * as z from 'zod';
import { logLevels } from '../log.ts';

const port = z.number().int().min(1).max(65_535);

/** A local listener: `{enabled, host, port}`; `host` defaults to loopback so nothing is exposed by accident. */
const Listener = z.strictObject({
  enabled: z.boolean().optional(),
  host: z.string().min(1).optional(),
  port: port.optional(),
});

/**
 * The agent's config file (`agent.json`, mode 0600). `enroll` writes the identity part; people may add the
 * rest by hand. Unknown keys are refused so that a typo does not silently do nothing.
 */
export const ConfigFile = z.strictObject({
  /** Base URL of the Pulsewire service, e.g. `https://pulsewire.example.com`. */
  url: z.url({ protocol: /^https?$/ }).optional(),
  hostId: z.string().min(1).max(64).optional(),
  tenantId: z.string().max(64).optional(),
  /** Absolute ingest URL the server handed out at enrollment; defaults to `<url>/api/v1/ingest`. */
  ingestUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Ed25519 private key, PKCS#8 base64url. Never leaves the machine. */
  privateKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url')
    .optional(),
  publicKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'must be a raw Ed25519 key in base64url')
    .optional(),
  machineId: z.string().max(128).optional(),
  name: z.string().max(200).optional(),
  labels: Labels.optional(),
  /** Where the spool, sequence counter and status file live. */
  stateDir: z.string().min(1).optional(),
  spool: z
    .strictObject({
      maxBytes: z
        .number()
        .int()
        .min(1024 * 1024)
        .optional(),
      maxBatches: z.number().int().min(10).optional(),
      memoryBatches: z.number().int().min(1).max(10_000).optional(),
    })
    .optional(),
  statsd: Listener.optional(),
  http: Listener.optional(),
  dockerSocket: z.string().min(1).optional(),
  nvidiaSmi: z.string().min(1).optional(),
  /** Collector names to switch off: cpu, load, memory, disks, diskIo, net, processes, temps, gpu, docker, agent. */
  disabledCollectors: z.array(z.string()).optional(),
  logLevel: z.enum(logLevels).optional(),
  /**
   * Keep the control socket through which the service says "go live" at once (default on). Off: the cadence
   * changes in the answer to the next push only (up to 30 s later), e.g. behind a proxy that refuses WebSockets.
   */
  controlSocket: z.boolean().optional(),
});
export type ConfigFile = z.infer<typeof ConfigFile>;

/** `host:port`, `:port` or `off`, as given in env variables and flags. */
export const ListenerSpec = z.union([
  z.literal('off').transform(() => ({ enabled: false })),
  z
    .string()
    .regex(/^([^:\s]*):(\d{1,5})$/, 'use host:port, :port or off')
    .transform((spec) => {
      const at = spec.lastIndexOf(':');
      const host = spec.slice(0, at);
      return { enabled: true, port: Number(spec.slice(at + 1)), ...(host ? { host } : {}) };
    })
    .pipe(z.object({ enabled: z.boolean(), host: z.string().optional(), port })),
]);

/** `PULSEWIRE_*` variables; each overrides the file, and flags override them. */
export const EnvConfig = z.object({
  PULSEWIRE_URL: z.url({ protocol: /^https?$/ }).optional(),
  PULSEWIRE_NAME: z.string().max(200).optional(),
  PULSEWIRE_STATE_DIR: z.string().min(1).optional(),
  PULSEWIRE_STATSD: ListenerSpec.optional(),
  PULSEWIRE_HTTP: ListenerSpec.optional(),
  PULSEWIRE_DOCKER_SOCKET: z.string().min(1).optional(),
  PULSEWIRE_NVIDIA_SMI: z.string().min(1).optional(),
  PULSEWIRE_LOG_LEVEL: z.enum(logLevels).optional(),
  PULSEWIRE_CONTROL_SOCKET: z.enum(['on', 'off']).optional(),
  PULSEWIRE_SPOOL_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .optional(),
  PULSEWIRE_DISABLE: z
    .string()
    .transform((list) =>
      list
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    )
    .optional(),
});

/** Flags that overlap with config keys (the CLI parses them; this validates them like the rest). */
export const FlagConfig = z.object({
  url: z.url({ protocol: /^https?$/ }).optional(),
  name: z.string().max(200).optional(),
  stateDir: z.string().min(1).optional(),
  statsd: ListenerSpec.optional(),
  http: ListenerSpec.optional(),
  dockerSocket: z.string().min(1).optional(),
  logLevel: z.enum(logLevels).optional(),
});
export type FlagConfig = z.input<typeof FlagConfig>;
