/**
 * Measures what the agent costs the machine it watches: resident memory in steady state and CPU per
 * collection cycle, read from /proc/<pid>/status and /proc/<pid>/stat while `run` pushes to a local
 * ingest stand-in (src/test/ingest-server.ts). With `--node-exporter <binary>` Prometheus' node_exporter
 * runs beside it in the same window and is scraped once per agent cycle, so the two figures share the
 * machine's load. Linux only. Figures are printed (and written as JSON with `--json <file>`), never asserted.
 *
 *   node agent/scripts/footprint.ts --agent "node web/build/downloads/pulsewire-agent.mjs" \
 *     [--cadence normal|live] [--seconds 120] [--node-exporter /usr/bin/prometheus-node-exporter]
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { DEFAULT_CADENCE, LIVE_CADENCE } from '@pulsewire/protocol';
import { startIngestServer, until } from '../src/test/ingest-server.ts';
import { isolatedAgentEnv, tmp } from '../src/test/run-cli.ts';

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * utime + stime of every thread of the process, plus what its exited children used (cutime + cstime: a
 * collector that spawns `df` or `ps` pays for them), in milliseconds.
 */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields from the closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** VmRSS in bytes. */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

export interface Footprint {
  label: string;
  cycles: number;
  cpuMsPerCycle: number;
  /** CPU over the window as a percentage of one core. */
  cpuPct: number;
  rssMedianMiB: number;
  rssMaxMiB: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

/** Wall-clock time of `<agent> --version`, best of `runs`: what starting the runtime and the bundle costs. */
export function startMs(agent: string[], runs = 5): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync(agent[0] as string, [...agent.slice(1), '--version']);
    if (result.status !== 0) throw new Error(`${agent.join(' ')} --version failed: ${result.stderr}`);
    best = Math.min(best, performance.now() - started);
  }
  return Math.round(best);
}

async function main() {
  const { values } = parseArgs({
    options: {
      agent: { type: 'string' },
      cadence: { type: 'string', default: 'normal' },
      seconds: { type: 'string', default: '120' },
      warmup: { type: 'string', default: '3' },
      'node-exporter': { type: 'string' },
      json: { type: 'string' },
    },
  });
  if (!values.agent) throw new Error('--agent "<command line>" is required');
  const agent = values.agent.split(' ');
  const cadence = values.cadence === 'live' ? LIVE_CADENCE : DEFAULT_CADENCE;
  const windowMs = Number(values.seconds) * 1000;
  const warmupCycles = Number(values.warmup);

  const server = await startIngestServer();
  server.setCadence(cadence);
  const dir = tmp('pw-footprint-');
  // The local intake listens as it does by default, on ports of its own.
  const { env, config } = isolatedAgentEnv(dir, { statsd: await freePort(), http: await freePort() });
  // Not spawnSync: the ingest stand-in answering the enrollment runs in this process.
  const enrolling = spawn(
    agent[0] as string,
    [...agent.slice(1), 'enroll', '--key', 'pk_test_key', '--url', server.url],
    {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const enrolled = await new Promise<number | null>((resolve) => enrolling.once('exit', resolve));
  if (enrolled !== 0) throw new Error(`enroll failed (exit ${enrolled})`);
  writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), ...server.keys }), {
    mode: 0o600,
  });

  const child = spawn(agent[0] as string, [...agent.slice(1), 'run'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const pid = child.pid as number;
  let exporter: { pid: number; kill: () => void; url: string } | undefined;
  if (values['node-exporter']) {
    const port = await freePort();
    const proc = spawn(values['node-exporter'], [`--web.listen-address=127.0.0.1:${port}`, '--log.level=error'], {
      stdio: 'ignore',
    });
    exporter = { pid: proc.pid as number, kill: () => proc.kill('SIGTERM'), url: `http://127.0.0.1:${port}/metrics` };
    await until(
      async () => (await fetch(exporter?.url as string).catch(() => undefined))?.ok ?? false,
      'node_exporter',
    );
  }
  const samples = () => server.received.reduce((n, batch) => n + batch.samples.length, 0);
  await until(
    () => samples() >= warmupCycles,
    'warm-up samples',
    // At least 30 s: on a loaded machine a start (and the Node build's re-execution) can take seconds.
    Math.max(1200, Math.ceil(((warmupCycles + 2) * cadence.collectIntervalMs) / 25)),
  );

  const agentRss: number[] = [];
  const exporterRss: number[] = [];
  const agentCpu0 = cpuMs(pid);
  const exporterCpu0 = exporter ? cpuMs(exporter.pid) : 0;
  const samples0 = samples();
  const started = performance.now();
  let scrapes = 0;
  while (performance.now() - started < windowMs) {
    if (exporter) {
      await (await fetch(exporter.url)).text();
      scrapes++;
      exporterRss.push(rssBytes(exporter.pid));
    }
    agentRss.push(rssBytes(pid));
    await sleep(cadence.collectIntervalMs);
  }
  const elapsed = performance.now() - started;
  const agentCpu = cpuMs(pid) - agentCpu0;
  // Batches arrive a push interval late; the agent's own cycle count is the window over its cadence.
  const cycles = Math.max(1, Math.round(elapsed / cadence.collectIntervalMs));
  const results: Footprint[] = [
    {
      label: `agent (${values.agent})`,
      cycles,
      cpuMsPerCycle: Math.round((agentCpu / cycles) * 10) / 10,
      cpuPct: Math.round((agentCpu / elapsed) * 100 * 100) / 100,
      rssMedianMiB: mib(median(agentRss)),
      rssMaxMiB: mib(Math.max(...agentRss)),
    },
  ];
  if (exporter) {
    const exporterCpu = cpuMs(exporter.pid) - exporterCpu0;
    results.push({
      label: 'node_exporter',
      cycles: scrapes,
      cpuMsPerCycle: Math.round((exporterCpu / scrapes) * 10) / 10,
      cpuPct: Math.round((exporterCpu / elapsed) * 100 * 100) / 100,
      rssMedianMiB: mib(median(exporterRss)),
      rssMaxMiB: mib(Math.max(...exporterRss)),
    });
    exporter.kill();
  }
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  await server.close();
  const start = startMs(agent);
  const report = {
    cadence: cadence.live ? 'live (1 s)' : `normal (${cadence.collectIntervalMs / 1000} s)`,
    windowS: Math.round(elapsed / 1000),
    samplesReceived: samples() - samples0,
    /** How the batches came: pushes over HTTP, or on the control socket. */
    batchesVia: {
      http: server.requests.filter((r) => r.via === 'http').length,
      control: server.requests.filter((r) => r.via === 'control').length,
    },
    violations: server.violations,
    startMs: start,
    results,
  };
  console.log(JSON.stringify(report, null, 2));
  if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2));
}

if (import.meta.main) await main();
