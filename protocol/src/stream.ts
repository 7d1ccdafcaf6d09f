import * as z from 'zod';
import { HostStatus } from './hosts.ts';
import { AppEvent, type Sample } from './ingest.ts';

/**
 * Dashboard WebSocket protocol (design.md, "Dashboard WebSocket protocol").
 *
 * One socket per browser tab to the tenant's Durable Object (`GET /api/v1/stream`). The client
 * subscribes to streams of hosts; the object sends only what a subscription covers. Every frame,
 * both ways, is one JSON object validated by the schemas below.
 */
export const STREAM_PROTOCOL_VERSION = 1;
export const STREAM_PATH = '/api/v1/stream';

/** Client messages larger than this are refused with an `error` (code `message_too_large`). */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;
/** Host ids one subscribe message may name; use `"*"` for every host. */
export const MAX_SUBSCRIBE_HOSTS = 200;

/**
 * Exactly this frame is answered by the runtime's auto-response (`setWebSocketAutoResponse`), so
 * a keep-alive never wakes a hibernating object. A ping with an `id` is answered by the object.
 */
export const KEEPALIVE_PING = '{"type":"ping"}';
export const KEEPALIVE_PONG = '{"type":"pong"}';

/**
 * Flow control. Every data frame (`metrics`, `event`, `alert`, `host_status`) carries `seq`, and a
 * client acknowledges the newest one it has received with `ack` (a few times a second at most: acks
 * count against the same message rate limit as everything else). A socket whose unacknowledged
 * frames pass either bound is sent `error` `slow_consumer` and closed with
 * {@link STREAM_CLOSE.tryAgainLater}: the server cannot see a reader that stopped reading otherwise,
 * and would buffer for it without end. `hello` announces both bounds.
 */
export const MAX_UNACKED_FRAMES = 1000;
export const MAX_UNACKED_BYTES = 1024 * 1024;
/**
 * What all sockets of one organisation may hold unacknowledged together (the tenant object has
 * 128 MB for everything): past it the sockets furthest behind are closed as slow consumers first.
 */
export const MAX_TENANT_UNACKED_BYTES = 32 * 1024 * 1024;

/** What a socket can subscribe to. */
export const streamKinds = ['metrics', 'host_status', 'events', 'alerts'] as const;
export const StreamKind = z.enum(streamKinds);
export type StreamKind = z.infer<typeof StreamKind>;

export const alertLevels = ['warning', 'critical'] as const;
export const AlertLevel = z.enum(alertLevels).meta({ id: 'AlertLevel' });
export type AlertLevel = z.infer<typeof AlertLevel>;

const hostId = z.string().min(1).max(64);
const shortName = z.string().min(1).max(200);

/** `"*"` (every host of the tenant, including hosts enrolled later) or a list of host ids. */
export const HostSelector = z.union([z.literal('*'), z.array(hostId).min(1).max(MAX_SUBSCRIBE_HOSTS)]);
export type HostSelector = z.infer<typeof HostSelector>;

export const SubscriptionFilters = z.object({
  /** `alerts`: only alerts at this level or above. */
  minAlertLevel: AlertLevel.optional(),
  /** `metrics`: only these containers (by name or compose service) in the container section. */
  containers: z.array(shortName).max(100).optional(),
  /** `events`: only these event kinds, e.g. `job.failed`. */
  eventKinds: z.array(z.string().min(1).max(64)).max(50).optional(),
});
export type SubscriptionFilters = z.infer<typeof SubscriptionFilters>;

/**
 * Adds (or replaces, for the same hosts and streams) a subscription. Naming hosts explicitly in a
 * `metrics` subscription is "watching them live": their agents are told to push every second until
 * the last such watcher leaves. `"*"` follows every host at its normal cadence.
 */
export const ClientSubscribe = z.object({
  type: z.literal('subscribe'),
  /** Echoed in the `subscribed` answer so the client can match it. */
  id: z.string().max(64).optional(),
  hosts: HostSelector,
  streams: z.array(StreamKind).min(1).max(streamKinds.length),
  filters: SubscriptionFilters.optional(),
});
export type ClientSubscribe = z.infer<typeof ClientSubscribe>;

/** Removes the given streams (all when omitted) for the given hosts. */
export const ClientUnsubscribe = z.object({
  type: z.literal('unsubscribe'),
  id: z.string().max(64).optional(),
  hosts: HostSelector,
  streams: z.array(StreamKind).min(1).max(streamKinds.length).optional(),
});
export type ClientUnsubscribe = z.infer<typeof ClientUnsubscribe>;

export const ClientPing = z.object({ type: z.literal('ping'), id: z.string().max(64).optional() });
export const ClientGetStatus = z.object({ type: z.literal('get_status') });
/** The newest `seq` received: frames up to it no longer count against the socket's flow bounds. */
export const ClientAck = z.object({ type: z.literal('ack'), seq: z.number().int().nonnegative() });
export type ClientAck = z.infer<typeof ClientAck>;

export const ClientMessage = z.discriminatedUnion('type', [
  ClientSubscribe,
  ClientUnsubscribe,
  ClientPing,
  ClientGetStatus,
  ClientAck,
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

/** One subscription as the server holds it. */
export const Subscription = z.object({
  hosts: HostSelector,
  streams: z.array(StreamKind),
  filters: SubscriptionFilters.optional(),
});
export type Subscription = z.infer<typeof Subscription>;

/**
 * The part of a sample a live chart draws: CPU, load, memory, disk I/O and fullest disk, network per
 * interface, GPUs and containers. Top processes, temperatures and facts stay in the REST API.
 */
export const LiveSample = z.object({
  ts: z.number(),
  cpu: z
    .object({
      total: z.number(),
      user: z.number(),
      system: z.number(),
      iowait: z.number(),
      steal: z.number(),
      perCore: z.array(z.number()),
    })
    .optional(),
  load1: z.number().optional(),
  mem: z
    .object({
      total: z.number(),
      used: z.number(),
      cached: z.number(),
      swapTotal: z.number(),
      swapUsed: z.number(),
    })
    .optional(),
  diskIo: z.object({ read: z.number(), write: z.number() }).optional(),
  /** The fullest filesystem, percent. */
  diskPct: z.number().optional(),
  net: z.array(z.object({ iface: z.string(), rx: z.number(), tx: z.number() })).optional(),
  gpus: z
    .array(
      z.object({
        index: z.number(),
        name: z.string(),
        util: z.number().optional(),
        memUsed: z.number().optional(),
        memTotal: z.number().optional(),
        tempC: z.number().optional(),
        powerW: z.number().optional(),
      }),
    )
    .optional(),
  containers: z
    .array(
      z.object({
        name: z.string(),
        service: z.string().optional(),
        state: z.string(),
        cpuPct: z.number().optional(),
        memUsed: z.number().optional(),
      }),
    )
    .optional(),
});
export type LiveSample = z.infer<typeof LiveSample>;

/** Reduces a stored sample to what live charts draw ({@link LiveSample}). */
export function toLiveSample(sample: Sample): LiveSample {
  const live: LiveSample = { ts: sample.ts };
  if (sample.cpu) {
    const { total, user, system, iowait, steal, perCore } = sample.cpu;
    live.cpu = { total, user, system, iowait, steal, perCore };
  }
  if (sample.load) live.load1 = sample.load[1];
  if (sample.memory) {
    const { total, used, cached, swapTotal, swapUsed } = sample.memory;
    live.mem = { total, used, cached, swapTotal, swapUsed };
  }
  if (sample.diskIo) live.diskIo = { read: sample.diskIo.readBytesPerSec, write: sample.diskIo.writeBytesPerSec };
  if (sample.disks?.length) live.diskPct = sample.disks.reduce((max, d) => Math.max(max, d.usedPct), 0);
  if (sample.net) live.net = sample.net.map((n) => ({ iface: n.iface, rx: n.rxBytesPerSec, tx: n.txBytesPerSec }));
  if (sample.gpus) {
    live.gpus = sample.gpus.map((g) => ({
      index: g.index,
      name: g.name,
      ...(g.utilPct !== undefined ? { util: g.utilPct } : {}),
      ...(g.memUsed !== undefined ? { memUsed: g.memUsed } : {}),
      ...(g.memTotal !== undefined ? { memTotal: g.memTotal } : {}),
      ...(g.tempC !== undefined ? { tempC: g.tempC } : {}),
      ...(g.powerW !== undefined ? { powerW: g.powerW } : {}),
    }));
  }
  if (sample.containers) {
    live.containers = sample.containers.map((c) => ({
      name: c.name,
      ...(c.composeService ? { service: c.composeService } : {}),
      state: c.state,
      ...(c.cpuPct !== undefined ? { cpuPct: c.cpuPct } : {}),
      ...(c.memUsed !== undefined ? { memUsed: c.memUsed } : {}),
    }));
  }
  return live;
}

export const ServerHello = z.object({
  type: z.literal('hello'),
  protocol: z.literal(STREAM_PROTOCOL_VERSION),
  tenantId: z.string(),
  connectionId: z.string(),
  serverTime: z.iso.datetime(),
  /** The bounds past which an unacknowledging socket is closed (see {@link MAX_UNACKED_FRAMES}). */
  flow: z.object({
    maxUnackedFrames: z.number().int().positive(),
    maxUnackedBytes: z.number().int().positive(),
  }),
});

/** Answer to `subscribe` / `unsubscribe`: every subscription the socket now holds. */
export const ServerSubscribed = z.object({
  type: z.literal('subscribed'),
  id: z.string().optional(),
  subscriptions: z.array(Subscription),
});

/**
 * Position of a data frame in the object's output: strictly increasing on one socket (not
 * consecutive: the counter is shared by every socket of the tenant). Acknowledge it with `ack`.
 */
const seq = z.number().int().nonnegative();

/** New samples of one host, oldest first (one per second while watched live). */
export const ServerMetrics = z.object({
  type: z.literal('metrics'),
  seq,
  hostId: z.string(),
  samples: z.array(LiveSample),
});

/** A host went online, stale or offline, as the tenant object's alarms decided. */
export const ServerHostStatus = z.object({
  type: z.literal('host_status'),
  seq,
  hostId: z.string(),
  status: HostStatus,
  previous: HostStatus.nullable(),
  lastSeenAt: z.iso.datetime().nullable(),
  at: z.iso.datetime(),
});

/** Most host statuses in one `host_statuses` frame. */
export const MAX_STATUSES_PER_FRAME = 1000;

/**
 * Many host statuses at once: the snapshot after a `host_status` subscription, or the hosts one
 * alarm moved. Each entry reads as a `host_status` message. Large organisations get pages, sent
 * back to back: a snapshot never needs an ack in between.
 */
export const ServerHostStatuses = z.object({
  type: z.literal('host_statuses'),
  seq,
  statuses: z
    .array(
      z.object({
        hostId: z.string(),
        status: HostStatus,
        previous: HostStatus.nullable(),
        lastSeenAt: z.iso.datetime().nullable(),
      }),
    )
    .max(MAX_STATUSES_PER_FRAME),
  at: z.iso.datetime(),
});
export type ServerHostStatuses = z.infer<typeof ServerHostStatuses>;

export const ServerEvent = z.object({
  type: z.literal('event'),
  seq,
  hostId: z.string(),
  event: AppEvent,
});

/** `stale`: the host went silent; the alert is neither still firing nor resolved (host down speaks for it). */
export const alertStates = ['pending', 'firing', 'resolved', 'stale'] as const;
export const ServerAlert = z.object({
  type: z.literal('alert'),
  seq,
  alert: z.object({
    id: z.string(),
    ruleId: z.string(),
    ruleName: z.string(),
    hostId: z.string().nullable(),
    level: AlertLevel,
    state: z.enum(alertStates),
    metric: z.string(),
    /** Series key, e.g. `disk.used_pct{mount="/"}`; "" for host-level rules. */
    series: z.string().optional(),
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    message: z.string(),
    at: z.iso.datetime(),
    acknowledged: z.boolean().optional(),
    silenced: z.boolean().optional(),
  }),
});
export type ServerAlert = z.infer<typeof ServerAlert>;

export const ServerPong = z.object({ type: z.literal('pong'), id: z.string().optional() });
export const ServerStatus = z.object({
  type: z.literal('status'),
  connections: z.number().int().nonnegative(),
  uptimeSeconds: z.number().nonnegative(),
  /** This socket's subscriptions. */
  subscriptions: z.array(Subscription).optional(),
});
export const streamErrorCodes = [
  'invalid_message',
  'message_too_large',
  'unknown_type',
  'rate_limited',
  'too_many_subscriptions',
  /** A subscribe named host ids that are not the organisation's (listed in `hostIds`); nothing changed. */
  'unknown_host',
  /** The socket left too many frames unacknowledged; it is closed with 1013 next. */
  'slow_consumer',
  /** An ack named a seq never sent to this socket; it is closed with 1008 next. */
  'invalid_ack',
] as const;
export const ServerError = z.object({
  type: z.literal('error'),
  code: z.enum(streamErrorCodes),
  message: z.string(),
  /** The `id` of the client message this answers, when it had one. */
  id: z.string().optional(),
  /** `unknown_host`: the ids that are not the organisation's hosts. */
  hostIds: z.array(z.string()).optional(),
});
export type ServerError = z.infer<typeof ServerError>;

export const ServerMessage = z.discriminatedUnion('type', [
  ServerHello,
  ServerSubscribed,
  ServerMetrics,
  ServerHostStatus,
  ServerHostStatuses,
  ServerEvent,
  ServerAlert,
  ServerPong,
  ServerStatus,
  ServerError,
]);
export type ServerMessage = z.infer<typeof ServerMessage>;

/** WebSocket close codes the object uses, with the reason in the close frame. */
export const STREAM_CLOSE = {
  /** A client that kept flooding after `rate_limited` errors. */
  policyViolation: 1008,
  /** A client too slow to take what it subscribed to (`slow_consumer`): reconnect after a backoff. */
  tryAgainLater: 1013,
  /** The session or key behind the socket is no longer valid. */
  unauthorized: 4001,
} as const;
