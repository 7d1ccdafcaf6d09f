import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertPortFree, freePort } from './ports.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface WorkerProcess {
  url: string;
  child: ChildProcess;
  /** wrangler's inspector proxy (`ws://127.0.0.1:<port>/ws` reaches the Worker's isolate): worker-profile.ts. */
  inspectorPort: number;
  /**
   * What wrangler dev and the Worker printed (the newest {@link KEPT_OUTPUT_CHARS} characters; nothing
   * with `inheritOutput`), e.g. for a test that checks what reaches the logs.
   */
  output(): string;
  stop(): Promise<void>;
}

/** Enough for every log line of a test file's run; error reports show only the end of it. */
const KEPT_OUTPUT_CHARS = 4_000_000;
const REPORTED_OUTPUT_CHARS = 20_000;

export interface WorkerProcessOptions {
  port?: number;
  vars: Record<string, string>;
  /** Where wrangler keeps Durable Object storage between runs. */
  persistTo: string;
  /** Print wrangler's output (pnpm dev) or keep it for error reports only (tests). */
  inheritOutput?: boolean;
  /**
   * wrangler dev's local observability (on unless false): a streaming tail from every invocation of the Worker
   * and its objects into a trace store (a SQLite object) in the same workerd thread, for the local explorer.
   * Production has nothing like it in the object's thread; benchmarks turn it off (bench/README.md, "Fan-out
   * profile": at 4,750 sockets it was a third of workerd's CPU, most of it contention for the isolate lock).
   */
  localObservability?: boolean;
}

/** The environment wrangler dev runs with: this process's, offline and quiet, and without local observability if asked. */
export function wranglerEnv(
  options: Pick<WorkerProcessOptions, 'localObservability'>,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  return {
    ...base,
    WRANGLER_SEND_METRICS: 'false',
    // Offline by design: skip miniflare's download of the `Request.cf` sample object.
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    NO_UPDATE_NOTIFIER: '1',
    FORCE_COLOR: '0',
    // wrangler's switch for its local explorer's trace collector (default on).
    ...(options.localObservability === false ? { X_LOCAL_OBSERVABILITY: 'false' } : {}),
  };
}

/** `wrangler dev` serving the Worker, its Durable Objects and the built dashboard on one URL. */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const port = options.port ?? (await freePort());
  if (options.port) await assertPortFree(port, 'Pulsewire dev server');
  const inspectorPort = await freePort();
  const wrangler = path.join(REPO_ROOT, 'node_modules/.bin/wrangler');
  const args = [
    'dev',
    '--config',
    path.join(REPO_ROOT, 'wrangler.toml'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--persist-to',
    options.persistTo,
    '--show-interactive-dev-session=false',
    ...Object.entries(options.vars).flatMap(([key, value]) => ['--var', `${key}:${value}`]),
  ];
  const child = spawn(wrangler, args, {
    cwd: REPO_ROOT,
    stdio: options.inheritOutput ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
    env: wranglerEnv(options),
    detached: false,
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output = (output + d).slice(-KEPT_OUTPUT_CHARS);
  });
  child.stderr?.on('data', (d) => {
    output = (output + d).slice(-KEPT_OUTPUT_CHARS);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopChild(child);
  try {
    await waitForHealth(url, child, () => output.slice(-REPORTED_OUTPUT_CHARS));
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, child, inspectorPort, output: () => output, stop };
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`wrangler dev exited with code ${child.exitCode}:\n${output()}`);
    }
    try {
      const res = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200 || res.status === 503) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`wrangler dev did not answer on ${url} within 90 s:\n${output()}`);
}

export function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Runs a command to its end (never `spawnSync`: the caller may be serving the embedded Postgres it needs). */
export function runProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, output: output.trim() }));
  });
}
