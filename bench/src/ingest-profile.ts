/**
 * Where workerd's CPU per ingest batch goes: the ingest load of ingest.ts on a stack of its own (over a scratch
 * database of the PostgreSQL server through the local PgBouncer when both are there, else PGlite), with the
 * Worker's isolate sampled through wrangler's inspector for the whole load. Prints the CPU per batch, self time
 * by module and by function, and writes the `.cpuprofile` (Chrome DevTools opens it) to bench/results/.
 *
 *   node bench/src/ingest-profile.ts [--path http|socket] [--seconds 30] [--hosts 50] [--concurrency 16] [--top 40]
 *
 * On the socket path the load is the hosts' control sockets (each with up to 32 batches unanswered), and the
 * tenant object's code runs in the same isolate, so its share is in the same profile.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type CpuProfile,
  findPgbouncer,
  REPO_ROOT,
  reachable,
  startServerScratch,
  startWorkerProfile,
} from '@pulsewire/stack';
import { bundleModules, summarizeProfile } from './cpu-profile.ts';
import { DEFAULT_SERVER_URL } from './databases.ts';
import { runIngest } from './ingest.ts';
import { type IngestPath, parseIngestPaths } from './ingest-paths.ts';
import { type BenchStack, startBenchStack } from './stack.ts';
import { round } from './stats.ts';
import { BenchTenant } from './tenant.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    hosts: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '16' },
    top: { type: 'string', default: '40' },
    path: { type: 'string', default: 'http' },
  },
});
const ingestPath = parseIngestPaths(values.path);
if (!ingestPath.ok || ingestPath.value.length !== 1) throw new Error(`--path: http or socket`);
const log = (line: string) => console.log(line);

/** The newest bundle under the repository's `.wrangler/tmp/` (wrangler dev writes one per session, removed on exit). */
function wranglerBundle(): string | undefined {
  const tmp = path.join(REPO_ROOT, '.wrangler/tmp');
  const bundles = (fs.existsSync(tmp) ? fs.readdirSync(tmp) : [])
    .map((dir) => path.join(tmp, dir, 'index.js'))
    .filter((file) => fs.existsSync(file))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return bundles[0] ? fs.readFileSync(bundles[0], 'utf8') : undefined;
}
const serverUrl = process.env.DATABASE_URL || DEFAULT_SERVER_URL;
const onServer = await reachable(serverUrl);
const pooled = onServer && findPgbouncer() !== undefined;
const scratch = onServer ? await startServerScratch(serverUrl, 'pw_bench_profile') : undefined;
let stack: BenchStack | undefined;
try {
  stack = await startBenchStack(scratch ? { databaseUrl: scratch.url, pooled } : {});
  const where = scratch ? `${scratch.label}${stack.pooler ? ` via ${stack.pooler}` : ', direct'}` : 'PGlite';
  log(`› ingest profile on ${where}, ${values.path} path`);
  let profiling: { stop(): Promise<CpuProfile> } | undefined;
  let profile: CpuProfile | undefined;
  let bundle: string | undefined;
  const inspectorPort = stack.inspectorPort;
  const run = await runIngest(await BenchTenant.create(stack.url), stack, {
    hosts: Number(values.hosts),
    seconds: Number(values.seconds),
    concurrency: Number(values.concurrency),
    path: ingestPath.value[0] as IngestPath,
    log,
    ...(scratch ? { serverDatabase: new URL(scratch.url).pathname.slice(1) } : {}),
    load: {
      async started() {
        profiling = await startWorkerProfile(inspectorPort);
      },
      async ended() {
        profile = await profiling?.stop();
        bundle = wranglerBundle();
      },
    },
  });
  if (!profile) throw new Error('no profile came back');
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '../results');
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, `ingest-${new Date().toISOString().replaceAll(':', '-')}.cpuprofile`);
  fs.writeFileSync(file, JSON.stringify(profile));
  // The profile names the bundle `index.js` alone: the one wrangler built for this stack, read while it ran.
  const lines = bundle ? bundleModules(bundle) : undefined;
  const moduleOf = (url: string, line: number) => (url === 'index.js' ? lines?.(line) : undefined);
  const summary = summarizeProfile(profile, moduleOf);
  const batches = run.batches;
  log(
    `  ${batches} batches timed; workerd CPU ${round(run.cpu.workerd.msPerBatch)} ms per batch (from /proc); ` +
      `the isolate's sampled JavaScript ${round(summary.busyMs)} ms busy, ${round(summary.idleMs)} ms idle over the whole load ` +
      `(warm-up included: ${round(summary.busyMs / (batches * (1 + 5 / run.seconds)))} ms per batch, roughly)`,
  );
  const top = Number(values.top);
  const show = (title: string, entries: { name: string; selfMs: number; share: number }[]) => {
    log(`  ${title}:`);
    for (const e of entries.slice(0, top))
      log(`    ${(e.share * 100).toFixed(1).padStart(5)} %  ${round(e.selfMs)} ms  ${e.name}`);
  };
  show('self time by module', summary.byModule);
  show('self time by function', summary.byFunction);
  log(`  profile: ${file}`);
} finally {
  await stack?.stop();
  await scratch?.stop();
}
