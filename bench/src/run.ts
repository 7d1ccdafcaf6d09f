/**
 * `pnpm bench`: the performance bars of design.md against the local stack, each figure with a
 * baseline from the same run and the ratio between them. Writes bench/results/<time>.json and
 * bench/results/latest.md, and prints the summary.
 *
 *   pnpm bench [--only latency,fanout,alerting,storage,history,going-live,ingest,agent,cost] [--sockets 10000] [--batches 10] [--fanout-wait-answers] [--fanout-ack-delay ms] [--fanout-compression] [--pushes 200]
 *              [--crossings 50] [--alert-hosts 1000] [--alert-rules 500]
 *              [--databases postgres,pglite] [--hosts 4] [--days 3] [--landing-hours 4]
 *              [--history-days 30] [--baseline-days 7] [--runs 30] [--subscribes 20] [--baseline-subscribes 5]
 *              [--ingest-hosts 50] [--ingest-seconds 60] [--ingest-concurrency 16] [--ingest-samples 3]
 *              [--ingest-path http,socket] [--ingest-socket-hosts 50] [--ingest-socket-in-flight 32]
 *              [--agent-idle-seconds 120] [--agent-live-seconds 120]
 *              [--cost-hosts 20] [--cost-rate 10] [--cost-seconds 30] [--fleet-hosts 1000]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CONTROL_MAX_BATCHES_IN_FLIGHT } from '@pulsewire/protocol';
import { agentResults } from './agent-bench.ts';
import { runAgentBench } from './agent-footprint.ts';
import { runEngineCost } from './alert-engine.ts';
import { MAX_CROSSINGS, runAlertDelivery } from './alerting.ts';
import { costResults, logCost, runCostBench } from './cost-bench.ts';
import { DATABASE_KINDS, type DatabaseKind, databaseTargets } from './databases.ts';
import { type FanoutRun, runFanout } from './fanout.ts';
import { runGoingLive } from './going-live.ts';
import { BYTES_READ_BAR, MAX_POINTS, runHistory } from './history.ts';
import { runIngestBench } from './ingest-bench.ts';
import { DEFAULT_INGEST_PATHS, DEFAULT_SOCKET_HOSTS, parseIngestPaths, parseSocketInFlight } from './ingest-paths.ts';
import { ingestResults } from './ingest-report.ts';
import { runLatency } from './latency.ts';
import { type BenchResult, renderSummary } from './report.ts';
import { type BenchStack, startBenchStack } from './stack.ts';
import { round } from './stats.ts';
import { runStorage } from './storage.ts';
import { STORAGE_BAR_BYTES } from './storage-figures.ts';
import { BenchTenant } from './tenant.ts';

const BENCHES = [
  'latency',
  'fanout',
  'alerting',
  'storage',
  'history',
  'going-live',
  'ingest',
  'agent',
  'cost',
] as const;
/** The benchmarks that drive the local stack; storage and history measure databases directly. */
const STACK_BENCHES: readonly BenchName[] = ['latency', 'fanout', 'alerting', 'going-live', 'ingest'];
const FDS_PER_SOCKET = 4;
/** Descriptors workerd, Postgres and the relay need besides the sockets. */
const RESERVED_FDS = 1000;
type BenchName = (typeof BENCHES)[number];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    sockets: { type: 'string', default: '10000' },
    batches: { type: 'string', default: '10' },
    'fanout-wait-answers': { type: 'boolean', default: false },
    'fanout-ack-delay': { type: 'string' },
    'fanout-compression': { type: 'boolean', default: false },
    pushes: { type: 'string', default: '200' },
    crossings: { type: 'string', default: '50' },
    'alert-hosts': { type: 'string', default: '1000' },
    'alert-rules': { type: 'string', default: '500' },
    databases: { type: 'string', default: DATABASE_KINDS.join(',') },
    hosts: { type: 'string', default: '4' },
    days: { type: 'string', default: '3' },
    'landing-hours': { type: 'string', default: '4' },
    'history-days': { type: 'string', default: '30' },
    'baseline-days': { type: 'string', default: '7' },
    runs: { type: 'string', default: '30' },
    subscribes: { type: 'string', default: '20' },
    'baseline-subscribes': { type: 'string', default: '5' },
    'ingest-hosts': { type: 'string', default: '50' },
    'ingest-seconds': { type: 'string', default: '60' },
    'ingest-concurrency': { type: 'string', default: '16' },
    'ingest-samples': { type: 'string', default: '3' },
    'ingest-path': { type: 'string', default: DEFAULT_INGEST_PATHS.join(',') },
    'ingest-socket-hosts': { type: 'string', default: String(DEFAULT_SOCKET_HOSTS) },
    'ingest-socket-in-flight': { type: 'string', default: String(CONTROL_MAX_BATCHES_IN_FLIGHT) },
    'agent-idle-seconds': { type: 'string', default: '120' },
    'agent-live-seconds': { type: 'string', default: '120' },
    'cost-hosts': { type: 'string', default: '20' },
    'cost-rate': { type: 'string', default: '10' },
    'cost-seconds': { type: 'string', default: '30' },
    'fleet-hosts': { type: 'string', default: '1000' },
  },
});
const positive = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got "${text}"`);
    process.exit(2);
  }
  return n;
};
const selected = (values.only?.split(',') ?? [...BENCHES]) as BenchName[];
for (const name of selected) {
  if (!BENCHES.includes(name)) {
    console.error(`unknown benchmark "${name}"; choose from ${BENCHES.join(', ')}`);
    process.exit(2);
  }
}
const requestedSockets = positive('sockets', values.sockets);
const socketLimit = socketsAllowedByFileLimit();
const sockets = Math.min(requestedSockets, socketLimit.sockets);
if (selected.includes('fanout') && sockets < requestedSockets) {
  console.log(
    `! this machine's open-file limit (ulimit -n ${socketLimit.openFiles}) lets wrangler dev's workerd hold about ` +
      `${socketLimit.sockets} sockets (≈${FDS_PER_SOCKET} descriptors each; past that the runtime crashes): ` +
      `measuring ${sockets} instead of ${requestedSockets}. Raise the limit (ulimit -n) to measure more.`,
  );
}
const batches = positive('batches', values.batches);
const pushes = positive('pushes', values.pushes);
const crossings = positive('crossings', values.crossings);
if (crossings > MAX_CROSSINGS) {
  console.error(`--crossings: at most ${MAX_CROSSINGS} (two messages each must fit one channel's hourly budget)`);
  process.exit(2);
}
const alertHosts = positive('alert-hosts', values['alert-hosts']);
const alertRules = Math.max(5, positive('alert-rules', values['alert-rules']));
const databases = values.databases.split(',') as DatabaseKind[];
for (const kind of databases) {
  if (!DATABASE_KINDS.includes(kind)) {
    console.error(`--databases: choose from ${DATABASE_KINDS.join(', ')}, got "${kind}"`);
    process.exit(2);
  }
}
const storageHosts = positive('hosts', values.hosts);
const storageDays = positive('days', values.days);
const landingHours = positive('landing-hours', values['landing-hours']);
const historyDays = positive('history-days', values['history-days']);
const baselineDays = positive('baseline-days', values['baseline-days']);
const runs = positive('runs', values.runs);
const subscribes = positive('subscribes', values.subscribes);
/** `--ingest-path` and `--ingest-socket-in-flight` (ingest-paths.ts), or exits with the reason. */
function parsedOrExit<T>(name: string, parsed: { ok: true; value: T } | { ok: false; message: string }): T {
  if (parsed.ok) return parsed.value;
  console.error(`--${name}: ${parsed.message}`);
  process.exit(2);
}
const ingestPaths = parsedOrExit('ingest-path', parseIngestPaths(values['ingest-path']));
const socketInFlight = parsedOrExit('ingest-socket-in-flight', parseSocketInFlight(values['ingest-socket-in-flight']));
const baselineSubscribes = positive('baseline-subscribes', values['baseline-subscribes']);

/**
 * Measured: every dashboard socket costs workerd about four file descriptors under wrangler dev (the
 * client's connection and the dev proxy's hops), and the runtime crashes with EMFILE when they run out.
 */
function socketsAllowedByFileLimit(): { openFiles: number; sockets: number } {
  const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  const openFiles = text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
  if (!Number.isFinite(openFiles)) return { openFiles, sockets: Number.MAX_SAFE_INTEGER };
  return { openFiles, sockets: Math.max(1, Math.floor((openFiles - RESERVED_FDS) / FDS_PER_SOCKET)) };
}

const log = (line: string) => console.log(line);
function logFanout(run: FanoutRun): void {
  const cpu = (run.cpuMs ?? []).map((p) => `${p.name} ${p.cpuMs} ms`).join(', ');
  log(
    `  ${run.opened} sockets × ${run.batches} batches (${run.pacing} pacing): ${run.delivered} of ${run.expected} delivered,` +
      ` ${run.closedEarly} closed; p50 ${round(run.latencyMs.p50)} ms, p99 ${round(run.latencyMs.p99)} ms;` +
      ` start-to-start p50 ${round(run.spacingMs.p50)} / max ${round(run.spacingMs.max)} ms, ${run.lateStarts} late,` +
      ` ${run.maxInFlight} in flight at most, ${run.failedPushes} failed; answers p50 ${round(run.answerMs.p50)} / p99 ${round(run.answerMs.p99)} ms;` +
      ` ${run.acks} acks (delay ${run.ackDelayMs} ms); permessage-deflate ${run.compression ? 'offered' : 'off'}; over ${round(run.windowSeconds)} s: ${cpu}`,
  );
  log(`  per batch p50/p99: ${run.perBatchMs.map((d) => `${round(d.p50)}/${round(d.p99)}`).join(' ')}`);
}
let stack: BenchStack | undefined;
// `ingest` needs the PGlite stack only when PGlite is measured (it starts its own over the server).
if (selected.some((name) => STACK_BENCHES.includes(name) && (name !== 'ingest' || databases.includes('pglite')))) {
  log('› starting the local stack');
  stack = await startBenchStack();
}
/** The stack, for the benchmarks that drive it (started above when one of them is selected). */
const stackUrl = (): string => {
  if (!stack) throw new Error('the local stack is not running');
  return stack.url;
};
const results: BenchResult[] = [];
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const at = new Date().toISOString();
const dir = path.join(import.meta.dirname, '..', 'results');
/** Written after every benchmark, so a later one that fails or is stopped does not lose the earlier figures. */
function save(): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, `${at.replace(/[:.]/g, '-')}.json`),
    `${JSON.stringify({ at, machine, results }, null, 2)}\n`,
  );
  fs.writeFileSync(path.join(dir, 'latest.md'), renderSummary(at, machine, results));
}
try {
  if (selected.includes('latency')) {
    // The agent sends on its control socket while it is open, over HTTP otherwise: both paths, each on its own host.
    for (const path of ingestPaths) {
      log(
        `› agent → dashboard latency: ${pushes} ${path === 'http' ? 'POSTs' : 'batches on the control socket'} to one watched host`,
      );
      const run = await runLatency(await BenchTenant.create(stackUrl()), { pushes, path });
      results.push({
        name: `agent → dashboard latency (p99), ${path === 'http' ? 'signed POSTs' : 'batches on the control socket'}`,
        value: round(run.agentToDashboardMs.p99),
        unit: 'ms',
        baseline: { name: 'GET /api/v1/health round trip (p99)', value: round(run.healthRoundTripMs.p99) },
        ratio: round(run.agentToDashboardMs.p99 / run.healthRoundTripMs.p99),
        bar: 'p99 < 50 ms and ≤ 1.5 × health',
        met:
          run.agentToDashboardMs.p99 < 50 &&
          run.agentToDashboardMs.p99 <= 1.5 * run.healthRoundTripMs.p99 &&
          run.agentToDashboardMs.count === pushes,
        details: run,
      });
      save();
    }
  }
  if (selected.includes('fanout')) {
    const tenant = await BenchTenant.create(stackUrl());
    log('› fan-out baseline: one socket');
    // Pushes on a fixed 1 s schedule (as an agent at the live cadence), or each after the last answer (before).
    const waitForAnswers = values['fanout-wait-answers'];
    // The clients' ack delay, to compare delays on one machine (default: the protocol's).
    const ackDelay = values['fanout-ack-delay'];
    const ackDelayMs = ackDelay === undefined ? undefined : positive('fanout-ack-delay', ackDelay);
    const compression = values['fanout-compression'];
    const fanout = { batches, log, stackPid: stack?.pid, waitForAnswers, ackDelayMs, compression };
    const one = await runFanout(tenant, { ...fanout, sockets: 1 });
    logFanout(one);
    log(`› fan-out: ${sockets} sockets on one tenant object`);
    const many = await runFanout(tenant, { ...fanout, sockets });
    logFanout(many);
    results.push({
      name: `fan-out to ${many.opened === requestedSockets ? many.opened : `${many.opened} of ${requestedSockets}`} sockets (p99 delivery)`,
      value: round(many.latencyMs.p99),
      unit: 'ms',
      baseline: { name: 'the same to 1 socket (p99)', value: round(one.latencyMs.p99) },
      ratio: round(many.latencyMs.p99 / one.latencyMs.p99),
      bar: 'every message delivered, p99 < 1 s',
      met:
        sockets === requestedSockets &&
        many.opened === sockets &&
        many.delivered === many.expected &&
        many.pacing === 'fixed' &&
        many.latencyMs.p99 < 1000,
      details: { baseline: one, run: many, openFileLimit: socketLimit.openFiles },
    });
    save();
  }
  if (selected.includes('alerting')) {
    log(`› alerting: ${crossings} threshold crossings to a webhook receiver`);
    const delivery = await runAlertDelivery(await BenchTenant.create(stackUrl()), { crossings, log });
    results.push({
      name: 'threshold crossing → webhook (p99)',
      value: round(delivery.crossingToWebhookMs.p99),
      unit: 'ms',
      baseline: { name: 'the signed ingest POST itself (p99)', value: round(delivery.ingestRoundTripMs.p99) },
      ratio: round(delivery.crossingToWebhookMs.p99 / delivery.ingestRoundTripMs.p99),
      bar: 'p99 < 1 s',
      met:
        delivery.crossingToWebhookMs.p99 < 1000 &&
        delivery.missed === 0 &&
        delivery.missedResolutions === 0 &&
        delivery.allVerified,
      details: delivery,
    });
    save();
    log(`› alerting: engine cost per batch, ${alertHosts} hosts, 5 then ${alertRules} rules`);
    const cost = await runEngineCost({ hosts: alertHosts, rules: alertRules });
    log(
      `  window rings once warm: ${round(cost.baseline.windowMiB)} MiB with 5 rules, ${round(cost.run.windowMiB)} MiB with ${alertRules}`,
    );
    results.push({
      name: `rule evaluation, ${alertRules} rules on ${alertHosts} hosts (mean per batch)`,
      value: round(cost.run.meanUs),
      unit: 'µs',
      baseline: { name: 'the 5 built-in rules (mean)', value: round(cost.baseline.meanUs) },
      ratio: round(cost.run.meanUs / cost.baseline.meanUs),
      bar: 'reported',
      met: cost.run.openAlerts === 0 && cost.baseline.openAlerts === 0,
      details: cost,
    });
    save();
  }
  if (selected.includes('storage')) {
    const targets = await databaseTargets(databases, log);
    const measured = await runStorage(targets, {
      hosts: storageHosts,
      days: storageDays,
      landingHours,
      log,
    });
    for (const run of measured) {
      const f = run.figures;
      const kB = (bytes: number) => round(bytes / 1000);
      log(
        `  ${run.database}: raw ${kB(f.perHostDay.raw)} kB + 1 min ${kB(f.perHostDay['1m'])} kB + 15 min ${kB(f.perHostDay['15m'])} kB + 1 h ${kB(f.perHostDay['1h'])} kB` +
          ` = ${kB(f.perHostDay.total)} kB per host per day (${round(f.bytesPerValue)} B/value, ${run.series} series;` +
          ` ${kB(f.fixedPerHostDay)} kB of it per-table fixed costs);` +
          ` jsonb rows ${kB(f.baseline.perHostDay)} kB (${round(f.baseline.bytesPerValue)} B/value);` +
          ` landing ${kB(f.landing.perHostHour)} kB per host-hour`,
      );
      const payload = run.payloadPerHostDay;
      log(
        `    chunk payloads per host-day: raw ${kB(payload.raw.bytes)} kB, 1 min ${kB(payload['1m'].bytes)} kB, 15 min ${kB(payload['15m'].bytes)} kB, 1 h ${kB(payload['1h'].bytes)} kB;` +
          ` raw by family: ${Object.entries(payload.raw.byFamily)
            .slice(0, 5)
            .map(([family, bytes]) => `${family} ${kB(bytes)} kB`)
            .join(', ')}, …`,
      );
      results.push({
        name: `storage per host per day, all tiers (${run.database})`,
        value: kB(f.perHostDay.total),
        unit: 'kB',
        baseline: { name: "a jsonb row per sample (today's layout)", value: kB(f.baseline.perHostDay) },
        ratio: round(f.ratio),
        bar: `≤ ${STORAGE_BAR_BYTES / 1e6} MB`,
        met: f.met,
        details: run,
      });
    }
    save();
  }
  if (selected.includes('history')) {
    const targets = await databaseTargets(databases, log);
    const measured = await runHistory(targets, { days: historyDays, baselineDays, runs, log });
    for (const run of measured) {
      for (const range of run.ranges) {
        results.push({
          name: `history chart, ${range.range} (${range.tier}, ${range.points} points, ${round(range.bytesRead / 1000)} kB read; ${run.database}) p95`,
          value: round(range.latencyMs.p95),
          unit: 'ms',
          baseline: {
            name: range.baseline
              ? 'jsonb rows, date_bin/GROUP BY (p95)'
              : `jsonb rows: none beyond ${run.baselineDays} d`,
            value: range.baseline ? round(range.baseline.latencyMs.p95) : Number.NaN,
          },
          ratio: range.baseline ? round(range.latencyMs.p95 / range.baseline.latencyMs.p95) : Number.NaN,
          bar: `p95 < 50 ms, ≤ ${MAX_POINTS} points, ≤ ${BYTES_READ_BAR / 1e6} MB read`,
          met: range.met,
          details: { ...run, ranges: undefined, range },
        });
      }
    }
    save();
  }
  if (selected.includes('going-live')) {
    log(`› going live: the real agent at the idle cadence, ${subscribes} subscribes to its host`);
    const run = await runGoingLive(await BenchTenant.create(stackUrl()), { subscribes, baselineSubscribes, log });
    results.push({
      name: `going live: subscribe → first per-second frame (p95 of ${subscribes}; p50 ${round(run.control.goingLiveMs.p50)} ms)`,
      value: round(run.control.goingLiveMs.p95),
      unit: 'ms',
      baseline: {
        name: `the same agent without its control socket, told by its next push's answer (p95 of ${baselineSubscribes}; p50 ${round(run.pushAnswer.goingLiveMs.p50)} ms)`,
        value: round(run.pushAnswer.goingLiveMs.p95),
      },
      ratio: round(run.control.goingLiveMs.p95 / run.pushAnswer.goingLiveMs.p95),
      bar: 'p95 ≤ 2 s',
      met: run.control.goingLiveMs.p95 <= 2000 && run.control.missed === 0,
      details: run,
    });
    save();
  }
  if (selected.includes('ingest')) {
    const measured = await runIngestBench(stack, {
      hosts: positive('ingest-hosts', values['ingest-hosts']),
      seconds: positive('ingest-seconds', values['ingest-seconds']),
      concurrency: positive('ingest-concurrency', values['ingest-concurrency']),
      socketHosts: positive('ingest-socket-hosts', values['ingest-socket-hosts']),
      inFlightPerSocket: socketInFlight,
      samplesPerBatch: positive('ingest-samples', values['ingest-samples']),
      paths: ingestPaths,
      databases,
      log,
    });
    results.push(...ingestResults(measured));
    save();
  }
  if (selected.includes('agent')) {
    const idleSeconds = positive('agent-idle-seconds', values['agent-idle-seconds']);
    const liveSeconds = positive('agent-live-seconds', values['agent-live-seconds']);
    log(`› agent footprint beside node_exporter and Netdata: ${idleSeconds} s idle, then ${liveSeconds} s at 1 s`);
    results.push(...agentResults(await runAgentBench({ idleSeconds, liveSeconds, log })));
    save();
  }
  if (selected.includes('cost')) {
    log('› cost per host-month: per-push CPU under a light load, then the price table');
    // The storage bench's figures when it ran in this invocation (the server's first).
    const storage = results.find((r) => r.name.startsWith('storage per host per day'))?.details as
      | { database: string; figures: { steadyStatePerHost: number; landing: { perHostHour: number } } }
      | undefined;
    const run = await runCostBench({
      hosts: positive('cost-hosts', values['cost-hosts']),
      seconds: positive('cost-seconds', values['cost-seconds']),
      ratePerSecond: positive('cost-rate', values['cost-rate']),
      fleetHosts: positive('fleet-hosts', values['fleet-hosts']),
      databases,
      socketPath: ingestPaths.includes('socket'),
      ...(storage
        ? {
            storage: {
              perHost: storage.figures.steadyStatePerHost,
              landingPerHostHour: storage.figures.landing.perHostHour,
              source: `the storage bench in this run (${storage.database})`,
            },
          }
        : {}),
      log,
    });
    logCost(run, log);
    results.push(...costResults(run));
    save();
  }
} finally {
  await stack?.stop();
}

console.log(`\n${renderSummary(at, machine, results)}`);
