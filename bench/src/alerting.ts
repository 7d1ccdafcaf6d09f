import { ChannelCreated, Rule, type RuleInput, type Sample, WebhookPayload } from '@pulsewire/protocol';
import { type FakeWebhookReceiver, startFakeWebhookReceiver } from '@pulsewire/stack';
import { type Distribution, distribution } from './stats.ts';
import type { BenchHost, BenchTenant } from './tenant.ts';

export interface AlertDeliveryRun {
  crossings: number;
  /** From the start of the signed ingest POST of a crossing batch to the receiver's verified delivery. */
  crossingToWebhookMs: Distribution;
  /** The same for the batch back under the recovery line, to the resolution's delivery. */
  recoveryToWebhookMs: Distribution;
  /** Baseline: the signed ingest POST of those same batches, until its 200. */
  ingestRoundTripMs: Distribution;
  /** A second baseline: `GET /api/v1/health` on the same stack. */
  healthRoundTripMs: Distribution;
  /** Crossings, and recoveries, whose message did not arrive within WAIT_MS (counted, not timed). */
  missed: number;
  missedResolutions: number;
  /** Every attempt the receiver saw verified with `standardwebhooks`. */
  allVerified: boolean;
}

/** Crossings before measuring: the first pay for the object's configuration load and cold paths. */
const WARMUP_CROSSINGS = 3;
/** How long one message may take before it counts as missed. */
const WAIT_MS = 10_000;
const CROSSING_PCT = 80;
const RECOVERED_PCT = 10;
const HOOK_PATH = '/bench-alerting';
/** A channel's highest hourly budget: two messages per crossing must fit in it. */
const MAX_MESSAGES = 1000;
export const MAX_CROSSINGS = MAX_MESSAGES / 2 - WARMUP_CROSSINGS;

/**
 * One host, one threshold rule with no group wait and a webhook channel to a receiver that verifies
 * every signature; `crossings` times a batch crosses the rule's line and the next one goes back
 * under it, one at a time, timing each to its delivered message.
 *
 * Each crossing uses a filesystem of its own (`/bench-<n>`, mounted in that batch's sample only):
 * the engine marks a series that flips four times within 30 minutes as flapping and goes quiet
 * about it (as it should), so one series cannot be driven back and forth 50 times. The rule
 * (`disk.used_pct{mount=~"/bench-.*"} > 70`) matches only those mounts; 80 % stays under the
 * built-in "Disk almost full" rule (85 %), which the tenant keeps like every organisation.
 */
export async function runAlertDelivery(
  tenant: BenchTenant,
  options: { crossings: number; log: (line: string) => void },
): Promise<AlertDeliveryRun> {
  if (options.crossings > MAX_CROSSINGS)
    throw new Error(`at most ${MAX_CROSSINGS} crossings fit one channel's hourly budget`);
  const receiver = await startFakeWebhookReceiver();
  try {
    const host = await tenant.enrollHost('alerting');
    const created = ChannelCreated.parse(
      await tenant.api.expect(
        'POST',
        '/channels',
        {
          name: 'bench receiver',
          config: { type: 'webhook', url: `${receiver.url}${HOOK_PATH}` },
          // Past the hourly budget (30 by default) messages wait for the hour's digest: allow the run's share.
          hourlyBudget: MAX_MESSAGES,
        },
        201,
      ),
    );
    if (!created.secret) throw new Error('a new webhook channel came without its signing secret');
    receiver.register(HOOK_PATH, created.secret);
    const rule: RuleInput = {
      name: 'Bench filesystem over 70 %',
      condition: {
        kind: 'threshold',
        metric: { path: 'disk.used_pct', match: [{ name: 'mount', op: '=~', value: '/bench-.*' }] },
        aggregation: 'last',
        windowSeconds: 0,
        comparison: 'gt',
        critical: { threshold: 70, recovery: 50 },
      },
      forSeconds: 0,
      notify: { channelIds: [created.channel.id], groupWaitSeconds: 0, notifyResolved: true },
    };
    const { id: ruleId } = Rule.parse(await tenant.api.expect('POST', '/rules', rule, 201));

    const crossing: number[] = [];
    const recovery: number[] = [];
    const ingest: number[] = [];
    const health: number[] = [];
    let missed = 0;
    let missedResolutions = 0;
    for (let n = -WARMUP_CROSSINGS; n < options.crossings; n++) {
      const mount = n < 0 ? `/bench-warm-${-n}` : `/bench-${n}`;
      const t0 = performance.now();
      await (await fetch(`${tenant.url}/api/v1/health`)).text();
      const healthMs = performance.now() - t0;

      const up = await pushAndWait(host, receiver, ruleId, mount, CROSSING_PCT, 'firing');
      const down = await pushAndWait(host, receiver, ruleId, mount, RECOVERED_PCT, 'resolved');
      if (n < 0) continue;
      health.push(healthMs);
      ingest.push(up.ingestMs, down.ingestMs);
      if (up.deliveredMs === null) missed++;
      else crossing.push(up.deliveredMs);
      if (down.deliveredMs === null) missedResolutions++;
      else recovery.push(down.deliveredMs);
      if ((n + 1) % 10 === 0)
        options.log(
          `  ${n + 1} of ${options.crossings} crossings; missed ${missed} firing, ${missedResolutions} resolved`,
        );
    }
    return {
      crossings: options.crossings,
      crossingToWebhookMs: distribution(crossing),
      recoveryToWebhookMs: distribution(recovery),
      ingestRoundTripMs: distribution(ingest),
      healthRoundTripMs: distribution(health),
      missed,
      missedResolutions,
      allVerified: receiver.attempts.every((a) => a.verified),
    };
  } finally {
    await receiver.stop();
  }
}

/**
 * Pushes one sample whose `mount` is at `pct` and waits for the rule's message of `kind` about that
 * mount. Times are wall-clock milliseconds in this process (the receiver runs here too).
 */
async function pushAndWait(
  host: BenchHost,
  receiver: FakeWebhookReceiver,
  ruleId: string,
  mount: string,
  pct: number,
  kind: 'firing' | 'resolved',
): Promise<{ ingestMs: number; deliveredMs: number | null }> {
  const startedAt = performance.timeOrigin + performance.now();
  const seen = receiver.deliveries.length;
  await host.push([withMount(host.sample(Math.round(startedAt)), mount, pct)]);
  const ingestMs = performance.timeOrigin + performance.now() - startedAt;
  const series = `mount="${mount}"`;
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    for (const delivery of receiver.deliveries.slice(seen)) {
      if (delivery.path !== HOOK_PATH) continue;
      const payload = WebhookPayload.safeParse(delivery.payload);
      if (!payload.success || payload.data.data.kind !== kind) continue;
      if (payload.data.data.alerts.some((a) => a.ruleId === ruleId && a.series.includes(series))) {
        return { ingestMs, deliveredMs: delivery.at - startedAt };
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return { ingestMs, deliveredMs: null };
}

/** This machine's real sample with one more filesystem, `mount`, at `pct` full. */
function withMount(sample: Sample, mount: string, pct: number): Sample {
  const size = 100 * 2 ** 30;
  const extra = { mount, fs: '/dev/bench', type: 'ext4', size, used: Math.round((size * pct) / 100), usedPct: pct };
  return { ...sample, disks: [...(sample.disks ?? []).filter((d) => !d.mount.startsWith('/bench-')), extra] };
}
