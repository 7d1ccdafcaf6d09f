import { INGEST_PATH, type Labels } from '@pulsewire/protocol';
import type * as z from 'zod';
import { fs, readFile, stat } from '../fs.ts';
import type { LogLevel } from '../log.ts';
import { configCandidates, defaultStateDir } from './paths.ts';
import { ConfigFile, EnvConfig, FlagConfig } from './schema.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface Listener {
  enabled: boolean;
  host: string;
  port: number;
}

/** Everything the agent runs with, after file, environment and flags were merged and checked. */
export interface ResolvedConfig {
  path: string;
  /** The file existed (an agent without one is not enrolled). */
  exists: boolean;
  file: ConfigFile;
  url?: string;
  ingestUrl?: string;
  hostId?: string;
  privateKey?: string;
  name?: string;
  labels: Labels;
  stateDir: string;
  spool: { maxBytes: number; maxBatches: number; memoryBatches: number };
  statsd: Listener;
  http: Listener;
  dockerSocket?: string;
  nvidiaSmi?: string;
  disabledCollectors: string[];
  logLevel: LogLevel;
  /** Keep the control socket (schema.ts, `controlSocket`). */
  controlSocket: boolean;
}

export const DEFAULT_STATSD: Listener = { enabled: true, host: '127.0.0.1', port: 8125 };
export const DEFAULT_HTTP_INTAKE: Listener = { enabled: true, host: '127.0.0.1', port: 8126 };

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('\n');
}

export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'EACCES'
        ? `Cannot read the config file ${path}: permission denied (it is mode 0600; run as its owner or with sudo).`
        : `Cannot read the config file ${path}: ${(error as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`The config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = ConfigFile.safeParse(json);
  if (!parsed.success) throw new ConfigError(`The config file ${path} is invalid:\n${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** A private key readable by others is a stolen host identity waiting to happen: say so. */
export async function loosePermissions(path: string): Promise<boolean> {
  if (process.platform === 'win32') return false;
  const info = await stat(path);
  return (info.mode & 0o077) !== 0;
}

function mergeListener(base: Listener, ...layers: (Partial<Listener> | undefined)[]): Listener {
  return Object.assign({ ...base }, ...layers.map((layer) => layer ?? {}));
}

export interface LoadOptions {
  /** `--config`. */
  configPath?: string;
  flags?: FlagConfig;
  env?: Record<string, string | undefined>;
}

export async function loadConfig(options: LoadOptions = {}): Promise<ResolvedConfig> {
  const env = options.env ?? process.env;
  const candidates = configCandidates(options.configPath, env);
  const path = candidates.find((candidate) => fs.existsSync(candidate)) ?? (candidates[0] as string);
  const exists = fs.existsSync(path);
  const file = exists ? await readConfigFile(path) : {};

  const envPicked = Object.fromEntries(Object.entries(env).filter(([key]) => key.startsWith('PULSEWIRE_')));
  const envParsed = EnvConfig.safeParse(envPicked);
  if (!envParsed.success) throw new ConfigError(`Invalid environment:\n${describeIssues(envParsed.error)}`);
  const e = envParsed.data;
  const flagsParsed = FlagConfig.safeParse(options.flags ?? {});
  if (!flagsParsed.success) throw new ConfigError(`Invalid option:\n${describeIssues(flagsParsed.error)}`);
  const f = flagsParsed.data;

  const url = f.url ?? e.PULSEWIRE_URL ?? file.url;
  return {
    path,
    exists,
    file,
    url,
    ingestUrl: file.ingestUrl ?? (url ? new URL(INGEST_PATH, url).toString() : undefined),
    hostId: file.hostId,
    privateKey: file.privateKey,
    name: f.name ?? e.PULSEWIRE_NAME ?? file.name,
    labels: file.labels ?? {},
    stateDir: f.stateDir ?? e.PULSEWIRE_STATE_DIR ?? file.stateDir ?? defaultStateDir(path, env),
    spool: {
      maxBytes: e.PULSEWIRE_SPOOL_MAX_BYTES ?? file.spool?.maxBytes ?? 256 * 1024 * 1024,
      maxBatches: file.spool?.maxBatches ?? 50_000,
      memoryBatches: file.spool?.memoryBatches ?? 64,
    },
    statsd: mergeListener(DEFAULT_STATSD, file.statsd, e.PULSEWIRE_STATSD, f.statsd),
    http: mergeListener(DEFAULT_HTTP_INTAKE, file.http, e.PULSEWIRE_HTTP, f.http),
    dockerSocket: f.dockerSocket ?? e.PULSEWIRE_DOCKER_SOCKET ?? file.dockerSocket,
    nvidiaSmi: e.PULSEWIRE_NVIDIA_SMI ?? file.nvidiaSmi,
    disabledCollectors: e.PULSEWIRE_DISABLE ?? file.disabledCollectors ?? [],
    logLevel: f.logLevel ?? e.PULSEWIRE_LOG_LEVEL ?? file.logLevel ?? 'info',
    controlSocket: e.PULSEWIRE_CONTROL_SOCKET ? e.PULSEWIRE_CONTROL_SOCKET === 'on' : (file.controlSocket ?? true),
  };
}

/** What `run` needs: an enrolled identity. */
export function requireEnrolled(config: ResolvedConfig): { ingestUrl: string; hostId: string; privateKey: string } {
  if (!config.exists) {
    throw new ConfigError(
      `This machine is not enrolled: no config file at ${config.path}.\n` +
        'Run `PULSEWIRE_KEY=<ingest API key> pulsewire-agent enroll --url <service URL>` first.',
    );
  }
  const { ingestUrl, hostId, privateKey } = config;
  if (!ingestUrl || !hostId || !privateKey) {
    const missing = [!hostId && 'hostId', !privateKey && 'privateKey', !ingestUrl && 'url or ingestUrl'].filter(
      Boolean,
    );
    throw new ConfigError(
      `The config file ${config.path} has no ${missing.join(', ')}: enroll this machine again with ` +
        '`PULSEWIRE_KEY=<ingest API key> pulsewire-agent enroll`.',
    );
  }
  return { ingestUrl, hostId, privateKey };
}
