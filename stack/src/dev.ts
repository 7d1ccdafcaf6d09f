/**
 * `pnpm dev`: build the dashboard, start the embedded stack, print the URL, and stop every child
 * process on Ctrl-C.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Demo, startDemo } from './demo.ts';
import { startDevStack } from './dev-stack.ts';
import { PortInUseError } from './ports.ts';
import { REPO_ROOT } from './worker-process.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '8787' },
    'skip-build': { type: 'boolean', default: false },
    'no-demo': { type: 'boolean', default: false },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`--port must be a TCP port number, got "${values.port}"`);
  process.exit(2);
}

if (!values['skip-build']) {
  // Root `pnpm build`: the dashboard and the single-file agent the onboarding page tells users to download.
  console.log('› building the dashboard and the agent download (web/build)…');
  const build = spawnSync('pnpm', ['build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
  // The self-contained executable is too large for a static asset: it goes into the R2 bucket that
  // `wrangler dev` emulates (under .data/wrangler, where the stack persists its state).
  const publish = spawnSync(
    process.execPath,
    ['agent/scripts/publish-executables.ts', '--local', '--persist-to', path.join(REPO_ROOT, '.data', 'wrangler')],
    { cwd: REPO_ROOT, stdio: 'inherit' },
  );
  if (publish.status !== 0) {
    console.error('✖ the agent executable is not in the local downloads bucket; the .mjs download still works');
  }
}

const databaseUrl = process.env.DATABASE_URL || undefined;
console.log(
  databaseUrl ? '› using the Postgres at DATABASE_URL' : '› starting embedded Postgres (PGlite) in .data/postgres',
);

let stack: Awaited<ReturnType<typeof startDevStack>>;
try {
  stack = await startDevStack({ port, inheritOutput: true, ...(databaseUrl ? { databaseUrl } : {}) });
} catch (error) {
  if (error instanceof PortInUseError) {
    console.error(`✖ ${error.message}\n  Use \`pnpm dev --port <n>\` to serve on another port.`);
  } else {
    console.error('✖ the local stack failed to start:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
}

// Where `pnpm seed:history` finds the running stack.
const statePath = path.join(REPO_ROOT, '.data', 'dev-stack.json');
fs.mkdirSync(path.dirname(statePath), { recursive: true });
fs.writeFileSync(statePath, JSON.stringify({ url: stack.url, databaseUrl: stack.database.databaseUrl }));

let demo: Demo | undefined;
if (!values['no-demo']) {
  console.log('› signing in the demo account and enrolling this machine’s agent…');
  try {
    demo = await startDemo({ url: stack.url, dataDir: path.join(REPO_ROOT, '.data'), repoRoot: REPO_ROOT });
  } catch (error) {
    // The service itself is up; say why the demo is missing and keep serving.
    console.error('✖ the demo account or agent could not be set up:', error instanceof Error ? error.message : error);
  }
}

console.log(`
  Pulsewire is running.

    Dashboard   ${stack.url}/
    API         ${stack.url}/api/v1/health
    Postgres    ${stack.database.kind === 'embedded' ? `${stack.database.databaseUrl} (embedded)` : 'DATABASE_URL'}
${
  demo
    ? `
    Demo login  ${demo.email} / ${demo.password}
    Agent       this machine (${demo.hostName}) reports to the demo account; log in ${path.relative(process.cwd(), demo.agentLog)}
`
    : ''
}
  Press Ctrl-C to stop.
`);

// wrangler dev runs no cron triggers: what wrangler.toml schedules every 5 minutes (purge, history compaction,
// roll-ups, retention) runs here on the same cadence through the local-only jobs route.
const CRON_MS = 5 * 60_000;
async function runJobs(): Promise<void> {
  try {
    const res = await fetch(`${stack.url}/api/v1/dev/jobs/run`, { method: 'POST' });
    if (!res.ok) console.error(`✖ scheduled jobs answered ${res.status}`);
  } catch (error) {
    console.error('✖ scheduled jobs failed:', error instanceof Error ? error.message : error);
  }
}
void runJobs();
const cron = setInterval(() => void runJobs(), CRON_MS);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(cron);
  fs.rmSync(statePath, { force: true });
  console.log(`\n› ${signal}: stopping…`);
  await demo?.stop();
  await stack.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
stack.worker.child.once('exit', (code) => {
  if (stopping) return;
  console.error(`✖ wrangler dev exited (code ${code}); stopping the rest.`);
  void Promise.resolve(demo?.stop())
    .then(() => stack.database.stop())
    .then(() => process.exit(1));
});
