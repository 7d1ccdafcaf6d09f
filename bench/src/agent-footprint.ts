/**
 * The `agent` benchmark: what the agent costs the machine it watches, beside Prometheus' node_exporter and
 * Netdata in the same window. Both builds of the agent run at once (the bundled `.mjs` under Node, as the
 * systemd unit runs it, and the Bun executable), each pushing to its own ingest stand-in (the agent tests'
 * strict one, agent/src/test/ingest-server.ts), first at the idle cadence, then told the live one in a push's
 * answer, as the Worker does. CPU (utime + stime, children included) and RSS are summed over each process
 * tree from /proc. node_exporter is scraped every 10 s by this process; Netdata collects every second by itself.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CADENCE, LIVE_CADENCE } from '@pulsewire/protocol';
import { freePort, REPO_ROOT, runProcess, stopChild } from '@pulsewire/stack';
import { type IngestServer, startIngestServer } from '../../agent/src/test/ingest-server.ts';
import { isolatedAgentEnv } from '../../agent/src/test/run-cli.ts';
import { type Peer, startNetdata, startNodeExporter } from './peers.ts';
import { type Footprint, footprint, readTree } from './proc-tree.ts';

const SCRAPE_EVERY_MS = 10_000;
const TICK_MS = 1_000;

export interface AgentBenchOptions {
  idleSeconds: number;
  liveSeconds: number;
  log: (line: string) => void;
}

interface Variant {
  label: string;
  command: string[];
  /** The file a user downloads (the .mjs needs Node besides). */
  fileBytes: number;
}

export interface PhaseFigures {
  cadence: string;
  seconds: number;
  /** By agent variant, then by peer name. */
  agents: Record<string, Footprint & { batches: number; samples: number }>;
  peers: Record<string, Footprint>;
}

export interface AgentBenchRun {
  variants: { label: string; command: string; fileBytes: number }[];
  peers: { name: string; version: string; cycle: string }[];
  /** Peers or builds that could not be measured, and why. */
  missing: string[];
  idle: PhaseFigures;
  live: PhaseFigures;
}

interface RunningAgent {
  variant: Variant;
  child: ChildProcess;
  server: IngestServer;
  dir: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Idle cycles run before the idle window opens (as `agent/scripts/footprint.ts` waits for warm-up samples). */
const IDLE_WARMUP_CYCLES = 3;

/** Lets `ms` pass with node_exporter scraped on the window's schedule, so every process starts the window warm. */
async function warmUp(peers: Peer[], ms: number): Promise<void> {
  const exporter = peers.find((p) => p.name === 'node_exporter');
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (exporter) await (await fetch(exporter.url)).text();
    await sleep(Math.min(SCRAPE_EVERY_MS, Math.max(0, until - performance.now())));
  }
}

export async function runAgentBench(options: AgentBenchOptions): Promise<AgentBenchRun> {
  const missing: string[] = [];
  const buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-bench-agent-'));
  const variants = await buildVariants(buildDir, missing, options.log);
  const peers: Peer[] = [];
  const agents: RunningAgent[] = [];
  try {
    for (const start of [startNodeExporter, startNetdata]) {
      const started = await start();
      if ('peer' in started) peers.push(started.peer);
      else {
        missing.push(started.missing);
        options.log(`  ! ${started.missing}: measuring without it`);
      }
    }
    for (const variant of variants) agents.push(await startAgent(variant));
    options.log(
      `  ${agents.map((a) => a.variant.label).join(' and ')} running; ${peers.map((p) => p.name).join(' and ') || 'no peer'} beside them`,
    );
    // Warm-up: the first push (collectors primed, the spool and intake up), bounded by two push intervals.
    for (
      let i = 0;
      i < (2 * DEFAULT_CADENCE.pushIntervalMs) / 250 && agents.some((a) => a.server.received.length === 0);
      i++
    ) {
      await sleep(250);
    }
    // Then steady state: a runtime compiles what runs every cycle during its first cycles (JavaScriptCore's
    // tiers in background threads, counted in the process's CPU), and node_exporter's first scrapes set up its
    // collectors; a window that opens at the first push bills that start-up to every idle cycle.
    options.log(`  warm-up: ${IDLE_WARMUP_CYCLES} idle cycles, node_exporter scraped as in the window`);
    await warmUp(peers, IDLE_WARMUP_CYCLES * DEFAULT_CADENCE.collectIntervalMs);
    options.log(
      `  idle cadence (collect every ${DEFAULT_CADENCE.collectIntervalMs / 1000} s, push every ${DEFAULT_CADENCE.pushIntervalMs / 1000} s): ${options.idleSeconds} s`,
    );
    const idle = await measure(agents, peers, options.idleSeconds * 1000, DEFAULT_CADENCE.collectIntervalMs, 'idle');
    // As the Worker does: told at once over the control socket and in push answers. (Told in push answers only,
    // an agent whose control socket is open keeps the socket's idle cadence, and the live window measured idle.)
    for (const agent of agents) agent.server.setCadence(LIVE_CADENCE, { tell: true });
    options.log('  live cadence told over the control socket; waiting for 1 s pushes');
    for (let i = 0; i < (DEFAULT_CADENCE.pushIntervalMs + 15_000) / 250 && !agents.every(isLive); i++) await sleep(250);
    await sleep(3_000);
    options.log(`  live cadence (1 s): ${options.liveSeconds} s`);
    const live = await measure(agents, peers, options.liveSeconds * 1000, LIVE_CADENCE.collectIntervalMs, 'live');
    return {
      variants: variants.map((v) => ({ label: v.label, command: v.command.join(' '), fileBytes: v.fileBytes })),
      peers: peers.map((p) => ({ name: p.name, version: p.version, cycle: p.cycle })),
      missing,
      idle,
      live,
    };
  } finally {
    for (const agent of agents) {
      await stopChild(agent.child, 5_000);
      await agent.server.close();
      fs.rmSync(agent.dir, { recursive: true, force: true });
    }
    for (const peer of peers) await peer.stop();
    fs.rmSync(buildDir, { recursive: true, force: true });
  }
}

/** The two builds, made here from the sources as `pnpm build` makes them. */
async function buildVariants(dir: string, missing: string[], log: (line: string) => void): Promise<Variant[]> {
  const variants: Variant[] = [];
  const mjs = path.join(dir, 'pulsewire-agent.mjs');
  const bundled = await runProcess(
    process.execPath,
    [path.join(REPO_ROOT, 'agent/scripts/bundle.ts'), '--outfile', mjs],
    process.env,
  );
  if (bundled.code === 0) {
    // As a user starts it: `run` re-executes itself with the tuning the systemd unit gives it (node-tuning.ts).
    variants.push({
      label: 'Node (.mjs)',
      command: [process.execPath, mjs],
      fileBytes: fs.statSync(mjs).size,
    });
  } else missing.push(`the .mjs bundle did not build: ${bundled.output.slice(-300)}`);
  const built = await runProcess(
    process.execPath,
    [path.join(REPO_ROOT, 'agent/scripts/executable.ts'), '--outdir', dir],
    process.env,
  );
  const exe = fs.readdirSync(dir).find((f) => f.startsWith('pulsewire-agent-linux-') && !f.endsWith('.sha256'));
  if (built.code === 0 && exe) {
    variants.push({
      label: 'Bun executable',
      command: [path.join(dir, exe)],
      fileBytes: fs.statSync(path.join(dir, exe)).size,
    });
  } else {
    const why = `the Bun executable did not build: ${built.output.slice(-300)}`;
    missing.push(why);
    log(`  ! ${why}`);
  }
  return variants;
}

async function startAgent(variant: Variant): Promise<RunningAgent> {
  const server = await startIngestServer();
  server.setCadence(DEFAULT_CADENCE);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-bench-agent-run-'));
  // The local intake listens as it does by default, on ports of its own.
  const { env, config } = isolatedAgentEnv(dir, { statsd: await freePort(), http: await freePort() });
  const [command, ...args] = variant.command as [string, ...string[]];
  const enrolled = await runProcess(command, [...args, 'enroll', '--key', 'pk_test_key', '--url', server.url], env);
  if (enrolled.code !== 0) throw new Error(`${variant.label}: enroll failed: ${enrolled.output.slice(-300)}`);
  // The stand-in verifies with its own key pair: the agent signs with it from here on.
  fs.writeFileSync(config, JSON.stringify({ ...JSON.parse(fs.readFileSync(config, 'utf8')), ...server.keys }), {
    mode: 0o600,
  });
  const child = spawn(command, [...args, 'run'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  return { variant, child, server, dir };
}

/** Pushing every second: three requests within the last 3.5 s. */
function isLive(agent: RunningAgent): boolean {
  const recent = agent.server.requests.filter((r) => r.at > Date.now() - 3_500);
  return recent.length >= 3;
}

async function measure(
  agents: RunningAgent[],
  peers: Peer[],
  windowMs: number,
  agentCycleMs: number,
  phase: 'idle' | 'live',
): Promise<PhaseFigures> {
  const trees = [
    ...agents.map((a) => ({ key: a.variant.label, pid: a.child.pid as number })),
    ...peers.map((p) => ({ key: p.name, pid: p.pid })),
  ];
  const start = new Map(trees.map((t) => [t.key, readTree(t.pid)]));
  const rss = new Map(trees.map((t) => [t.key, [] as number[]]));
  const processes = new Map(trees.map((t) => [t.key, [] as number[]]));
  const batches0 = agents.map((a) => a.server.received.length);
  const samples0 = agents.map((a) => samplesOf(a.server));
  const exporter = peers.find((p) => p.name === 'node_exporter');
  let scrapes = 0;
  const started = performance.now();
  let nextScrape = started;
  while (performance.now() - started < windowMs) {
    if (exporter && performance.now() >= nextScrape) {
      nextScrape += SCRAPE_EVERY_MS;
      const res = await fetch(exporter.url);
      await res.text();
      scrapes++;
    }
    for (const t of trees) {
      const now = readTree(t.pid);
      rss.get(t.key)?.push(now.rssBytes);
      processes.get(t.key)?.push(now.processes);
    }
    await sleep(TICK_MS);
  }
  const elapsedMs = performance.now() - started;
  const end = new Map(trees.map((t) => [t.key, readTree(t.pid)]));
  const figures = (key: string, cycles: number) =>
    footprint({
      cpuMs: (end.get(key)?.cpuMs ?? 0) - (start.get(key)?.cpuMs ?? 0),
      elapsedMs,
      cycles,
      rssBytes: rss.get(key) ?? [],
      processes: processes.get(key) ?? [],
    });
  return {
    cadence: phase === 'idle' ? 'idle (collect every 10 s, push every 30 s)' : 'live (collect and push every 1 s)',
    seconds: elapsedMs / 1000,
    agents: Object.fromEntries(
      agents.map((a, i) => [
        a.variant.label,
        {
          ...figures(a.variant.label, Math.max(1, Math.round(elapsedMs / agentCycleMs))),
          batches: a.server.received.length - (batches0[i] as number),
          samples: samplesOf(a.server) - (samples0[i] as number),
        },
      ]),
    ),
    peers: Object.fromEntries(
      peers.map((p) => [p.name, figures(p.name, p.cycle === 'scrape' ? scrapes : Math.round(elapsedMs / 1000))]),
    ),
  };
}

const samplesOf = (server: IngestServer) => server.received.reduce((n, b) => n + b.samples.length, 0);
