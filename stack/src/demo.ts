/**
 * `pnpm dev`'s demo (design.md, "Local stack", step 5): an account with this machine's agent enrolled
 * into it, so the first page a newcomer opens already shows this machine live. Everything goes through
 * the public API and the real agent CLI, exactly as a user would do it; nothing is written to the
 * database behind the API's back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreatedApiKey } from '@pulsewire/protocol';
import { ApiSession, verifyFromOutbox } from './api-session.ts';
import { runProcess, stopChild } from './worker-process.ts';

export const DEMO_EMAIL = 'demo@example.com';
export const DEMO_PASSWORD = 'pulsewire-demo';
const DEMO_ORGANIZATION = 'Demo';

export interface Demo {
  email: string;
  password: string;
  hostName: string;
  agentLog: string;
  agent: ChildProcess;
  stop(): Promise<void>;
}

/** Signs in as the demo user, creating and verifying the account (through the dev outbox) the first time. */
async function signIn(api: ApiSession): Promise<void> {
  const login = await api.call('POST', '/auth/login', { email: DEMO_EMAIL, password: DEMO_PASSWORD });
  if (login.status === 200) return;
  await login.body?.cancel();
  // Created but never verified (e.g. an earlier start stopped half-way): signing in mailed a new link.
  if (login.status === 403) return verifyFromOutbox(api, DEMO_EMAIL);
  await api.expect(
    'POST',
    '/auth/signup',
    { email: DEMO_EMAIL, password: DEMO_PASSWORD, name: 'Demo User', organizationName: DEMO_ORGANIZATION },
    201,
  );
  await verifyFromOutbox(api, DEMO_EMAIL);
}

function agentCli(repoRoot: string, args: string[], env: NodeJS.ProcessEnv) {
  return { command: process.execPath, args: [path.join(repoRoot, 'agent/src/cli.ts'), ...args], env };
}

/**
 * Ensures the demo account exists and this machine is enrolled in it (once: the agent's config is kept in
 * `<dataDir>/agent`), then runs the agent, logging to `<dataDir>/agent/agent.log`.
 */
export async function startDemo(options: { url: string; dataDir: string; repoRoot: string }): Promise<Demo> {
  const api = new ApiSession(options.url);
  await signIn(api);

  const agentDir = path.join(options.dataDir, 'agent');
  fs.mkdirSync(agentDir, { recursive: true, mode: 0o700 });
  const configPath = path.join(agentDir, 'agent.json');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULSEWIRE_CONFIG: configPath,
    PULSEWIRE_STATE_DIR: path.join(agentDir, 'state'),
  };
  const hostName = os.hostname();

  // Enrolled before and still known to this database? Otherwise (first run, or .data/postgres was wiped) enroll.
  const hostId = readHostId(configPath);
  const known = hostId ? (await api.call('GET', `/hosts/${hostId}`)).status === 200 : false;
  if (!known) {
    const { secret } = CreatedApiKey.parse(
      await api.expect('POST', '/keys', { name: `Demo agent on ${hostName}`, scope: 'ingest' }, 201),
    );
    // Not spawnSync: this process also serves the embedded Postgres the enrollment needs.
    // The key through the environment, not the command line, where any local user could read it (ps).
    const cli = agentCli(options.repoRoot, ['enroll', '--url', options.url], { ...env, PULSEWIRE_KEY: secret });
    const enrolled = await runProcess(cli.command, cli.args, cli.env);
    if (enrolled.code !== 0) throw new Error(`the demo agent could not enroll: ${enrolled.output}`);
  }

  const agentLog = path.join(agentDir, 'agent.log');
  const log = fs.openSync(agentLog, 'a');
  const cli = agentCli(options.repoRoot, ['run'], env);
  const agent = spawn(cli.command, cli.args, { env: cli.env, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  return {
    email: DEMO_EMAIL,
    password: DEMO_PASSWORD,
    hostName,
    agentLog,
    agent,
    // Ctrl-C already sent the agent SIGINT (same process group): give it the moment it needs to push what
    // it has, then SIGTERM (a second signal makes the agent skip its last push).
    stop: async () => {
      if (!(await exited(agent, 3_000))) await stopChild(agent);
    },
  };
}

function exited(child: ChildProcess, withinMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), withinMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function readHostId(configPath: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(configPath, 'utf8'));
    const hostId = (parsed as { hostId?: unknown }).hostId;
    return typeof hostId === 'string' ? hostId : undefined;
  } catch {
    return undefined;
  }
}
