import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '@pulsewire/stack';
import type { APIRequestContext } from 'playwright-core';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it holds; throws after `timeoutMs`, naming what it waited for. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A spawned agent CLI process with everything it printed. */
export interface AgentProcess {
  child: ChildProcess;
  readonly output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs the real agent CLI (`node agent/src/cli.ts …`) from the repository root with a throwaway HOME,
 * its config and state under `home`, and the local intakes off (other agents may hold their ports).
 */
export function runAgent(home: string, args: string[]): AgentProcess {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PULSEWIRE_')));
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'agent/src/cli.ts'), ...args], {
    cwd: REPO_ROOT,
    env: {
      ...clean,
      HOME: home,
      PULSEWIRE_CONFIG: path.join(home, 'agent.json'),
      PULSEWIRE_STATE_DIR: path.join(home, 'state'),
      PULSEWIRE_STATSD: 'off',
      PULSEWIRE_HTTP: 'off',
      PULSEWIRE_DOCKER_SOCKET: '/nonexistent.sock',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopAgent(agent: AgentProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!agent) return;
  if (agent.child.exitCode === null && agent.child.signalCode === null) {
    agent.child.kill('SIGTERM');
    const timer = setTimeout(() => agent.child.kill('SIGKILL'), graceMs);
    await agent.exited;
    clearTimeout(timer);
  }
}

/**
 * Signs up and verifies through the API and the dev outbox, then creates an ingest key; returns its
 * secret. With a browser context's `request`, the session cookie lands in that context's browser.
 */
export async function signUpWithIngestKey(
  request: APIRequestContext,
  baseUrl: string,
  user: { name: string; email: string; password: string },
): Promise<string> {
  const headers = { Origin: baseUrl };
  const signup = await request.post(`${baseUrl}/api/v1/auth/signup`, { headers, data: user });
  if (signup.status() !== 201) throw new Error(`signup: ${signup.status()} ${await signup.text()}`);
  // The Worker sends mail after answering, so the outbox may be a moment behind the 201.
  let token: string | undefined;
  await until(`the verification mail to ${user.email}`, async () => {
    const outbox = (await (await request.get(`${baseUrl}/api/v1/dev/outbox`, { headers })).json()) as {
      messages: { to: string; text: string }[];
    };
    token = /[?&]token=([\w-]+)/.exec(outbox.messages.find((m) => m.to === user.email)?.text ?? '')?.[1];
    return token !== undefined;
  });
  const verified = await request.post(`${baseUrl}/api/v1/auth/verify`, { headers, data: { token } });
  if (verified.status() !== 200) throw new Error(`verify: ${verified.status()} ${await verified.text()}`);
  const created = await request.post(`${baseUrl}/api/v1/keys`, {
    headers,
    data: { name: 'live e2e agent', scope: 'ingest' },
  });
  if (created.status() !== 201) throw new Error(`ingest key: ${created.status()} ${await created.text()}`);
  return ((await created.json()) as { secret: string }).secret;
}
