/**
 * `pnpm bench`: the performance bars of design.md against the local stack, each figure with a
 * baseline from the same run and the ratio between them. Writes bench/results/<time>.json and
 * bench/results/latest.md, and prints the summary.
 *
 *   pnpm bench [--only latency,fanout,alerting] [--sockets 10000] [--batches 10] [--pushes 200]
 *              [--crossings 50] [--alert-hosts 1000] [--alert-rules 500]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runEngineCost } from './alert-engine.ts';
import { MAX_CROSSINGS, runAlertDelivery } from './alerting.ts';
import { runFanout } from './fanout.ts';
import { runLatency } from './latency.ts';
import { type BenchResult, renderSummary } from './report.ts';
import { startBenchStack } from './stack.ts';
import { round } from './stats.ts';
import { BenchTenant } from './tenant.ts';

const BENCHES = ['latency', 'fanout', 'alerting'] as const;
const FDS_PER_SOCKET = 4;
/** Descriptors workerd, Postgres and the relay need besides the sockets. */
const RESERVED_FDS = 1000;
type BenchName = (typeof BENCHES)[number];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    sockets: { type: 'string', default: '10000' },
    batches: { type: 'string', default: '10' },
    pushes: { type: 'string', default: '200' },
    crossings: { type: 'string', default: '50' },
    'alert-hosts': { type: 'string', default: '1000' },
    'alert-rules': { type: 'string', default: '500' },
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
log('› starting the local stack');
const stack = await startBenchStack();
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
    log(`› agent → dashboard latency: ${pushes} pushes to one watched host`);
    const run = await runLatency(await BenchTenant.create(stack.url), { pushes });
    results.push({
      name: 'agent → dashboard latency (p99)',
      value: round(run.agentToDashboardMs.p99),
      unit: 'ms',
      baseline: { name: 'GET /api/v1/health round trip (p99)', value: round(run.healthRoundTripMs.p99) },
      ratio: round(run.agentToDashboardMs.p99 / run.healthRoundTripMs.p99),
      bar: 'p99 < 50 ms',
      met: run.agentToDashboardMs.p99 < 50 && run.agentToDashboardMs.count === pushes,
      details: run,
    });
    save();
  }
  if (selected.includes('fanout')) {
    const tenant = await BenchTenant.create(stack.url);
    log('› fan-out baseline: one socket');
    const one = await runFanout(tenant, { sockets: 1, batches, log });
    log(`› fan-out: ${sockets} sockets on one tenant object`);
    const many = await runFanout(tenant, { sockets, batches, log });
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
        many.latencyMs.p99 < 1000,
      details: { baseline: one, run: many, openFileLimit: socketLimit.openFiles },
    });
    save();
  }
  if (selected.includes('alerting')) {
    log(`› alerting: ${crossings} threshold crossings to a webhook receiver`);
    const delivery = await runAlertDelivery(await BenchTenant.create(stack.url), { crossings, log });
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
} finally {
  await stack.stop();
}

console.log(`\n${renderSummary(at, machine, results)}`);
