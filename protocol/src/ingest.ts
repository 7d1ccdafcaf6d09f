import * as z from 'zod';
import { float4, storableText } from './storable.ts';

/**
 * Ingest protocol v1 (design.md, "Ingest protocol (v1)"): what the agent sends and what the Worker answers.
 *
 * Units, everywhere: timestamps are Unix epoch milliseconds (UTC), sizes are bytes, rates are per second,
 * percentages are 0..100 (except per-process/per-container CPU, which is percent of one core and so can exceed
 * 100 on multi-core hosts), durations are milliseconds, temperatures °C, power W, frequencies MHz.
 *
 * Field names are short on purpose: every batch is stored and billed, so bytes per host per day matter.
 * Every bound below exists so that the Worker can reject abuse with a 422 before it touches storage.
 */

export const INGEST_PROTOCOL_VERSION = 1;
export const ENROLL_PATH = '/api/v1/agents/enroll';
export const INGEST_PATH = '/api/v1/ingest';

/** Limits the Worker enforces (413 above the byte limits, 422 above the counts). */
export const MAX_INGEST_BODY_BYTES = 1024 * 1024;
export const MAX_INGEST_DECODED_BYTES = 8 * 1024 * 1024;
export const MAX_SAMPLES_PER_BATCH = 300;
export const MAX_METRICS_PER_BATCH = 5000;
export const MAX_EVENTS_PER_BATCH = 1000;

/** Error codes specific to agents, sent in `{error:{code,message}}` next to the generic ones in errors.ts. */
export const ingestErrorCodes = [
  'invalid_api_key',
  'unknown_host',
  'host_revoked',
  'bad_signature',
  'stale_timestamp',
  'replayed_seq',
] as const;
export type IngestErrorCode = (typeof ingestErrorCodes)[number];

/**
 * How far after the batch's signed timestamp (the agent's clock when it sent) a sample, metric or event may be
 * stamped. The agent stamps everything before it signs, so anything later is a clock gone wrong; the Worker
 * does not store it and does not count it in `accepted`, and the rest of the batch is stored as usual.
 */
export const MAX_TIMESTAMP_LEAD_MS = 60_000;

// An epoch-ms timestamp between 2020 and 2100: catches seconds-vs-milliseconds mistakes at the edge.
// (How far ahead of now a timestamp may be is checked against the signed timestamp: MAX_TIMESTAMP_LEAD_MS.)
const epochMs = z.number().int().min(1_577_836_800_000).max(4_102_444_800_000);
const bytes = z.number().nonnegative();
const rate = z.number().nonnegative();
const pct = z.number().min(0).max(100);
/** Percent of one core: a process using four cores fully reads 400. */
const corePct = z.number().min(0).max(100_000);
const count = z.number().int().nonnegative();
const shortText = storableText.max(200);

const labelKey = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z_][A-Za-z0-9_.:-]*$/, 'label keys are letters, digits, _ . : - and start with a letter or _');
/** Small string→string maps attached to hosts, metrics and events (at most 32 entries). */
export const Labels = z
  .record(labelKey, storableText.max(200))
  .refine((labels) => Object.keys(labels).length <= 32, 'at most 32 labels');
export type Labels = z.infer<typeof Labels>;

export const CpuSection = z.object({
  /** Busy share of all cores, percent. */
  total: pct,
  user: pct,
  system: pct,
  iowait: pct,
  steal: pct,
  /** Busy percent per logical core, in core order. */
  perCore: z.array(pct).max(1024),
  /** Average current frequency, MHz (absent on VMs that do not expose it). */
  freqMhz: z.number().nonnegative().max(100_000).optional(),
});

export const LoadSection = z.object({
  1: z.number().nonnegative(),
  5: z.number().nonnegative(),
  15: z.number().nonnegative(),
});

export const MemorySection = z.object({
  total: bytes,
  /** total - available: what applications hold. */
  used: bytes,
  available: bytes,
  /** Page cache + buffers. */
  cached: bytes,
  swapTotal: bytes,
  swapUsed: bytes,
});

export const DiskUsage = z.object({
  mount: storableText.max(512),
  /** Device or source, e.g. `/dev/sda1`. */
  fs: storableText.max(512),
  /** Filesystem type, e.g. `ext4`. */
  type: storableText.max(64),
  size: bytes,
  used: bytes,
  usedPct: pct,
});

export const DiskIoSection = z.object({
  readBytesPerSec: rate,
  writeBytesPerSec: rate,
  readOpsPerSec: rate,
  writeOpsPerSec: rate,
});

export const NetInterface = z.object({
  iface: storableText.max(64),
  rxBytesPerSec: rate,
  txBytesPerSec: rate,
  rxPacketsPerSec: rate,
  txPacketsPerSec: rate,
  /** Error counters since boot. */
  rxErrors: count,
  txErrors: count,
  /** Byte counters since boot. */
  rxTotal: bytes,
  txTotal: bytes,
});

export const Gpu = z.object({
  index: count.max(255),
  name: shortText,
  driver: storableText.max(64).optional(),
  utilPct: pct.optional(),
  memUsed: bytes.optional(),
  memTotal: bytes.optional(),
  tempC: z.number().min(-100).max(300).optional(),
  powerW: z.number().nonnegative().max(10_000).optional(),
  powerLimitW: z.number().nonnegative().max(10_000).optional(),
});

export const Container = z.object({
  /** Short (12 hex) container id. */
  id: storableText.max(64),
  name: shortText,
  image: storableText.max(512),
  composeService: shortText.optional(),
  /** Docker's state: running, exited, paused, restarting, … */
  state: storableText.max(32),
  cpuPct: corePct.optional(),
  memUsed: bytes.optional(),
  memLimit: bytes.optional(),
  /** Bytes received/sent since the container started. */
  netRx: bytes.optional(),
  netTx: bytes.optional(),
  pids: count.optional(),
});

export const TopProcess = z.object({
  pid: count,
  name: shortText,
  cpuPct: corePct,
  /** Resident set size. */
  memBytes: bytes,
});

export const ProcessesSection = z.object({
  total: count,
  running: count,
  sleeping: count,
  blocked: count,
  topCpu: z.array(TopProcess).max(20),
  topMem: z.array(TopProcess).max(20),
});

export const Temperature = z.object({ label: storableText.max(128), c: z.number().min(-100).max(300) });

/** The agent's own footprint, so users can see what monitoring costs them. */
export const AgentSection = z.object({
  /** Percent of one core since the previous sample. */
  cpuPct: corePct,
  rssBytes: bytes,
  /** Batches waiting in memory / on disk. */
  queueDepth: count,
  spoolDepth: count,
  /** Duration of the last successful push, ms. */
  sendLatencyMs: z.number().nonnegative().optional(),
});

/** One collection of the host. Every section is optional: a collector that fails or is absent is left out. */
export const Sample = z.object({
  ts: epochMs,
  cpu: CpuSection.optional(),
  load: LoadSection.optional(),
  memory: MemorySection.optional(),
  disks: z.array(DiskUsage).max(64).optional(),
  diskIo: DiskIoSection.optional(),
  net: z.array(NetInterface).max(64).optional(),
  gpus: z.array(Gpu).max(16).optional(),
  containers: z.array(Container).max(500).optional(),
  processes: ProcessesSection.optional(),
  temps: z.array(Temperature).max(64).optional(),
  agent: AgentSection.optional(),
});
export type Sample = z.infer<typeof Sample>;

export const metricNamePattern = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;
export const MetricName = z
  .string()
  .min(1)
  .max(200)
  .regex(metricNamePattern, 'metric names are letters, digits, _ . : -');

export const metricKinds = ['gauge', 'counter', 'histogram', 'set'] as const;
export type MetricKind = (typeof metricKinds)[number];

/** Summary of the observations of one histogram/timer over one flush interval (timers in ms). */
export const HistogramSummary = z.object({
  count: z.number().int().positive(),
  sum: z.number(),
  min: z.number(),
  max: z.number(),
  p50: z.number(),
  p90: z.number(),
  p99: z.number(),
});

const metricBase = { name: MetricName, ts: epochMs, labels: Labels.optional() };

/**
 * A custom application metric, aggregated by the agent per flush interval:
 * gauge = last value; counter = increase over the interval; set = distinct values seen in the interval.
 */
export const CustomMetric = z.discriminatedUnion('kind', [
  z.object({ ...metricBase, kind: z.literal('gauge'), value: z.number() }),
  z.object({ ...metricBase, kind: z.literal('counter'), value: z.number() }),
  z.object({ ...metricBase, kind: z.literal('set'), value: count }),
  z.object({ ...metricBase, kind: z.literal('histogram'), hist: HistogramSummary }),
]);
export type CustomMetric = z.infer<typeof CustomMetric>;

/** Well-known event kinds for jobs (seed 002); any other short kind is accepted. */
export const jobEventKinds = ['job.started', 'job.progress', 'job.completed', 'job.failed'] as const;

/** An application event, e.g. a job that started, progressed, completed or failed. */
export const AppEvent = z.object({
  ts: epochMs,
  kind: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_.:-]+$/, 'event kinds are letters, digits, _ . : -'),
  /** What the event is about, e.g. the job id; events with the same id form one timeline. */
  id: storableText.min(1).max(200),
  name: shortText.optional(),
  /** Completion fraction 0..1 (stored as float4: 1e-46 is refused, not rounded to 0). */
  progress: float4.min(0).max(1).optional(),
  message: storableText.max(2000).optional(),
  labels: Labels.optional(),
});
export type AppEvent = z.infer<typeof AppEvent>;

/** Slow-changing facts about the host: sent at enrollment, at agent start and when they change. */
export const HostFacts = z.object({
  /** e.g. "Debian GNU/Linux 12". */
  os: shortText,
  kernel: shortText,
  arch: storableText.max(32),
  cpuModel: shortText,
  cores: count.max(65_536),
  memTotal: bytes,
  bootTime: epochMs,
  hostname: storableText.max(255),
});
export type HostFacts = z.infer<typeof HostFacts>;

/** How often the agent collects and pushes; every ingest response carries it. */
export const Cadence = z
  .object({
    collectIntervalMs: z.number().int().min(1000).max(3_600_000),
    pushIntervalMs: z.number().int().min(1000).max(3_600_000),
    /** Someone is watching this host live: the agent collects and pushes every second. */
    live: z.boolean(),
  })
  .meta({ id: 'Cadence' });
export type Cadence = z.infer<typeof Cadence>;

export const DEFAULT_CADENCE: Cadence = { collectIntervalMs: 10_000, pushIntervalMs: 30_000, live: false };
export const LIVE_CADENCE: Cadence = { collectIntervalMs: 1000, pushIntervalMs: 1000, live: true };

export const IngestBatch = z
  .object({
    /** Unique per batch: a retried batch keeps its id and is stored once. */
    batch_id: z.uuid(),
    /**
     * Increases by one per new batch of a host and survives agent restarts; retries keep theirs. Backfill is sent
     * newest first, so arrival order is not seq order: the Worker answers 409 only when a seq it already stored
     * comes back under another `batch_id` (a restored or wiped state folder, or a host key copied onto a second
     * machine); the 409 names the highest seq stored (ReplayedSeqErrorBody), and the agent renumbers the batch
     * past it and sends it again.
     */
    seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    host_id: storableText.min(1).max(64),
    sent_at: epochMs,
    samples: z.array(Sample).max(MAX_SAMPLES_PER_BATCH),
    metrics: z.array(CustomMetric).max(MAX_METRICS_PER_BATCH).optional(),
    events: z.array(AppEvent).max(MAX_EVENTS_PER_BATCH).optional(),
    facts: HostFacts.optional(),
  })
  .refine(
    (batch) => batch.samples.length + (batch.metrics?.length ?? 0) + (batch.events?.length ?? 0) > 0 || !!batch.facts,
    { message: 'a batch carries at least one sample, metric, event or the host facts', path: ['samples'] },
  );
export type IngestBatch = z.infer<typeof IngestBatch>;

export const IngestResponse = z
  .object({
    /**
     * Samples + metrics + events stored from this batch (0 for a duplicate). Less than were sent when some were
     * not stored: a sample whose timestamp the host already has (one row per host and timestamp), or anything
     * stamped more than MAX_TIMESTAMP_LEAD_MS after the signed timestamp.
     */
    accepted: count,
    /** This `batch_id` was already stored; the agent treats it as delivered. */
    duplicate: z.boolean(),
    cadence: Cadence,
  })
  .meta({ id: 'IngestResponse' });
export type IngestResponse = z.infer<typeof IngestResponse>;

/**
 * The 409 `replayed_seq` answer: the generic error body plus `lastSeq`, the highest seq the Worker has stored
 * for this host. Nothing of the batch was stored; sent again under a seq above `lastSeq` it will be.
 */
export const ReplayedSeqErrorBody = z.object({
  error: z.object({
    code: z.literal('replayed_seq'),
    message: z.string(),
    lastSeq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    requestId: z.string().optional(),
  }),
});
export type ReplayedSeqErrorBody = z.infer<typeof ReplayedSeqErrorBody>;

export const EnrollRequest = z
  .object({
    /** Raw 32-byte Ed25519 public key, base64url without padding. */
    publicKey: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}$/, 'a raw Ed25519 public key is 32 bytes (43 base64url characters)'),
    /** Stable machine identity (/etc/machine-id or equivalent), so re-enrolling does not duplicate the host. */
    machineId: storableText.min(1).max(128),
    hostname: storableText.min(1).max(255),
    /** Display name; defaults to the hostname. */
    name: shortText.optional(),
    labels: Labels.default({}),
    facts: HostFacts,
    agentVersion: storableText.max(32),
  })
  .meta({ id: 'EnrollRequest' });
export type EnrollRequest = z.infer<typeof EnrollRequest>;

export const EnrollResponse = z
  .object({
    hostId: z.string().min(1).max(64),
    tenantId: z.string().max(64).optional(),
    /** Absolute URL of the ingest endpoint, so the service can move ingest without touching agents. */
    ingestUrl: z.url(),
    cadence: Cadence,
  })
  .meta({ id: 'EnrollResponse' });
export type EnrollResponse = z.infer<typeof EnrollResponse>;
