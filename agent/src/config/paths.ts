import os from 'node:os';
import path from 'node:path';

export const SYSTEM_CONFIG_PATH = '/etc/pulsewire/agent.json';
export const SYSTEM_STATE_DIR = '/var/lib/pulsewire';

type Env = Record<string, string | undefined>;

export function userConfigPath(env: Env = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'pulsewire', 'agent.json');
}

/** Where the config is read from: an explicit path, else the user's file, else the system one. */
export function configCandidates(explicit: string | undefined, env: Env = process.env): string[] {
  if (explicit) return [path.resolve(explicit)];
  if (env.PULSEWIRE_CONFIG) return [path.resolve(env.PULSEWIRE_CONFIG)];
  return [userConfigPath(env), SYSTEM_CONFIG_PATH];
}

/** Spool and status live in /var/lib for the system service, in the XDG state folder for a user's agent. */
export function defaultStateDir(configPath: string, env: Env = process.env): string {
  if (configPath.startsWith('/etc/')) return SYSTEM_STATE_DIR;
  const base = env.XDG_STATE_HOME || path.join(env.HOME || os.homedir(), '.local', 'state');
  return path.join(base, 'pulsewire');
}
