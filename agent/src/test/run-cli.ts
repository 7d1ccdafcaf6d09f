import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const tmp = (prefix = 'pw-cli-') => mkdtempSync(path.join(tmpdir(), prefix));

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs an agent entry point (`src/cli.ts`, or the bundled `pulsewire-agent.mjs`) with `node` in a
 * child process, with a clean PULSEWIRE_* environment and a throw-away home.
 */
export function runCli(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
  /** Written to the child's standard input, which is then closed; without it, stdin is /dev/null. */
  stdin?: string,
) {
  return runProgram([process.execPath, script], args, env, cwd, stdin);
}

/** As runCli, for any program: `[executable]` for the self-contained agent. `env` may replace PATH. */
export function runProgram(
  command: readonly string[],
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
  stdin?: string,
) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PULSEWIRE_')));
  const home = tmp();
  const [program, ...before] = command as [string, ...string[]];
  const child = spawn(program, [...before, ...args], {
    ...(cwd ? { cwd } : {}),
    env: {
      ...clean,
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_STATE_HOME: path.join(home, '.state'),
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // Without input, stdin is closed at once, as `< /dev/null` would.
  child.stdin.end(stdin ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<CliExit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done, output: () => stdout + stderr };
}

/**
 * The environment of an agent measured or exercised in a throw-away folder: its home, config and state there,
 * its local intake (StatsD, HTTP) on the given ports, warnings only. `config` is where enroll writes.
 */
export function isolatedAgentEnv(
  dir: string,
  ports: { statsd: number; http: number },
): { env: NodeJS.ProcessEnv; config: string } {
  const config = path.join(dir, 'agent.json');
  const env = {
    ...process.env,
    HOME: dir,
    PULSEWIRE_CONFIG: config,
    PULSEWIRE_STATE_DIR: path.join(dir, 'state'),
    PULSEWIRE_STATSD: `127.0.0.1:${ports.statsd}`,
    PULSEWIRE_HTTP: `127.0.0.1:${ports.http}`,
    PULSEWIRE_LOG_LEVEL: 'warn',
  };
  return { env, config };
}
