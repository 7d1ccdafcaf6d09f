import { DurableObject } from 'cloudflare:workers';
import {
  type AppEvent,
  type Cadence,
  type ClientSubscribe,
  type ClientUnsubscribe,
  KEEPALIVE_PING,
  KEEPALIVE_PONG,
  LIVE_CADENCE,
  type LiveSample,
  MAX_UNACKED_BYTES,
  MAX_UNACKED_FRAMES,
  type ServerAlert,
  type ServerMessage,
  STREAM_CLOSE,
  STREAM_PROTOCOL_VERSION,
  type StreamKind,
  type Subscription,
  toLiveSample,
} from '@pulsewire/protocol';
import { type Env, parseConfig } from '../env.ts';
import { log } from '../http/logger.ts';
import { type BatchObservation, batchObservation } from '../ingest/alert-observation.ts';
import { idleCadence } from '../ingest/cadence.ts';
import { liveSamplesBeforeStore } from '../ingest/live-first.ts';
import type { DeliveryRecord } from '../notify/types.ts';
import {
  AGENT_HOST_HEADER,
  AGENT_KEY_HEADER,
  AGENT_ORIGIN_HEADER,
  AgentControl,
  agentIdentity,
  changedHosts,
  hostsWatchedLive,
  readAgentAttachment,
} from './agent-control.ts';
import { AgentIngest, type StoredBatch } from './agent-ingest/agent-ingest.ts';
import { AlertCoordinator, type AlertingIdentity } from './alerting/coordinator.ts';
import { decodeClientMessage } from './client-messages.ts';
import { chargeMessage, freshFloodState } from './flood.ts';
import { type DataFrame, type DataMessage, dataFrame, FlowControl } from './flow-control.ts';
import { HostDirectory } from './host-directory.ts';
import { lastSeenInDatabase } from './last-seen.ts';
import { candidatesFor, fanOutMetrics } from './live-fanout.ts';
import { PerKeyQueue } from './per-key-queue.ts';
import { nextTransitionAt, type Presence, presenceNeedsWrite, statusOf } from './presence.ts';
import { ShownBatches } from './shown-batches.ts';
import {
  attachmentSize,
  MAX_ATTACHMENT_BYTES,
  Principal,
  principalTag,
  readAttachment,
  type SocketAttachment,
  tagsFor,
} from './socket-attachment.ts';
import { type StatusEntry, statusEntry, statusPages } from './status-frames.ts';
import {
  applySubscribe,
  applyUnsubscribe,
  matching,
  subscriptionLimitError,
  wantsAlert,
  wantsEvent,
  watchesLive,
} from './subscriptions.ts';

/** Headers by which the Worker, after authenticating, tells the object whose socket it forwards. */
export const TENANT_HEADER = 'X-Pulsewire-Tenant';
export const PRINCIPAL_HEADER = 'X-Pulsewire-Principal';
export const ROLE_HEADER = 'X-Pulsewire-Role';
/** Connection limits, forwarded by the Worker from its configuration. */
export const MAX_TENANT_CONNECTIONS_HEADER = 'X-Pulsewire-Max-Tenant-Connections';
export const MAX_PRINCIPAL_CONNECTIONS_HEADER = 'X-Pulsewire-Max-Principal-Connections';
/** Every header the object trusts; the Worker strips client-sent copies before forwarding. */
export const TRUSTED_HEADERS = [
  TENANT_HEADER,
  PRINCIPAL_HEADER,
  ROLE_HEADER,
  MAX_TENANT_CONNECTIONS_HEADER,
  MAX_PRINCIPAL_CONNECTIONS_HEADER,
  AGENT_HOST_HEADER,
  AGENT_KEY_HEADER,
  AGENT_ORIGIN_HEADER,
];

/**
 * A live `metrics` frame carries at most this many samples of one host (the newest). A batch
 * replayed from an agent's spool after an outage is history: the dashboard reads it over REST.
 */
export const MAX_LIVE_SAMPLES_PER_MESSAGE = 30;
/** Events per batch sent live; the rest are in the history API. */
export const MAX_LIVE_EVENTS_PER_BATCH = 100;

const PRESENCE_PREFIX = 'presence:';
/** WebSocket.OPEN: a socket closed by the object (slow, flooding) may still deliver messages it had sent. */
const OPEN = 1;

function send(ws: WebSocket, message: ServerMessage): void {
  sendFrame(ws, JSON.stringify(message));
}

function sendFrame(ws: WebSocket, frame: string): void {
  try {
    ws.send(frame);
  } catch {
    // The peer is gone; the runtime will deliver webSocketClose.
  }
}

function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closed
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function jsonError(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status });
}

function positiveInt(value: string | null, fallback: number): number {
  const n = value === null ? Number.NaN : Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** Omit over each member of a union (the built-in one would merge them). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface LiveSocket {
  ws: WebSocket;
  state: SocketAttachment;
}

/**
 * One per tenant (`idFromName(tenantId)`): the only holder of live state. Sockets are accepted
 * with the hibernation API so the object can be evicted between messages and keep every client;
 * per-socket state lives in the socket's attachment, host presence in the object's storage. The
 * in-memory indexes below are caches rebuilt lazily after each wake-up.
 */
export class TenantObject extends DurableObject<Env> {
  private readonly startedAt = Date.now();
  /** Open sockets by connection id, with their (attachment) state. Null until first needed. */
  private socketIndex: Map<string, LiveSocket> | null = null;
  /**
   * The same entries by socket: a message (an ack, mostly) finds its socket's state here instead of
   * deserialising and validating the attachment. Rebuilt with the index after each wake-up.
   */
  private bySocket = new WeakMap<WebSocket, LiveSocket>();
  /** Connection ids per host id named in any subscription, and those with a `"*"` subscription. */
  private hostIndex = new Map<string, Set<string>>();
  private wildcard = new Set<string>();
  /** Presence per host, loaded from storage once per wake-up. */
  private presence: Map<string, Presence> | null = null;
  /** What storage holds of each host's presence (written on changes, not on every batch). */
  private readonly storedPresence = new Map<string, Presence>();
  /**
   * The last `seq` given to a data frame. Memory is wiped by hibernation, so each wake-up starts
   * from the clock, in microsecond units: it stays above every seq of the previous instance as long
   * as that one sent fewer than 1000 frames per millisecond it lived (a million a second, far beyond
   * what one object sends), and a clock that steps back by a millisecond only eats that margin.
   * Below 2^53 until the 23rd century.
   */
  private seq = Date.now() * 1000;
  private readonly flow = new FlowControl();
  /** Batches `showLive` sent before their commit: a retried one is not shown twice. */
  private readonly shownBatches = new ShownBatches();
  private readonly hostDirectory = new HostDirectory(() => parseConfig(this.env));
  /** Subscription changes of one socket, in order (a host check may wait on Postgres). */
  private readonly subscriptionChanges = new PerKeyQueue();
  /** Bumped when the API changed alerting configuration (tests read it to see the call arrived). */
  private alertConfigVersion = 0;
  /** Acknowledgements the API told this instance of (tests read it to see the call arrived). */
  private readonly acknowledgedAlerts = new Set<string>();
  /** Alert evaluation and notification: the engine, the notifier and their queue (tenant/alerting/). */
  private readonly alerting = new AlertCoordinator({
    storage: this.ctx.storage,
    env: () => this.env,
    publish: (alert) => void this.publishAlert(alert),
    wakeAt: (at) => this.wakeAt(at),
  });
  /** The agents' control sockets: told to go live or relax as watchers come and go (tenant/agent-control.ts). */
  private readonly agentControl = new AgentControl(this.ctx, {
    watchedLive: (hostId) => this.liveWatchers(hostId) > 0,
    idle: () => idleCadence(parseConfig(this.env)),
  });
  /** Stored batches on the agents' control sockets, committed together (tenant/agent-ingest/). */
  private readonly agentIngest = new AgentIngest({
    config: () => parseConfig(this.env),
    watchedLive: (hostId) => this.liveWatchers(hostId) > 0,
    showLive: (hostId, batch) => this.showLive(hostId, batch.batch_id, liveSamplesBeforeStore(batch.samples)),
    record: (stored) => this.recordStoredBatch(stored),
  });

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Keep-alives are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(KEEPALIVE_PING, KEEPALIVE_PONG));
  }

  // ---------------------------------------------------------------- socket index

  private sockets(): Map<string, LiveSocket> {
    if (this.socketIndex) return this.socketIndex;
    this.socketIndex = new Map();
    this.hostIndex = new Map();
    this.wildcard = new Set();
    for (const ws of this.ctx.getWebSockets()) {
      if (ws.readyState !== OPEN) continue;
      const state = readAttachment(ws);
      if (!state) {
        if (readAgentAttachment(ws)) continue; // an agent's control socket: not a dashboard's
        closeQuietly(ws, 1011, 'connection state lost; reconnect');
        continue;
      }
      this.index(ws, state);
    }
    return this.socketIndex;
  }

  private index(ws: WebSocket, state: SocketAttachment): void {
    const sockets = this.socketIndex;
    if (!sockets) return; // built lazily, from the attachments, when first needed
    this.unindex(state.connectionId);
    const socket = { ws, state };
    sockets.set(state.connectionId, socket);
    this.bySocket.set(ws, socket);
    for (const sub of state.subscriptions) {
      if (sub.hosts === '*') {
        this.wildcard.add(state.connectionId);
        continue;
      }
      for (const hostId of sub.hosts) {
        const set = this.hostIndex.get(hostId) ?? new Set<string>();
        set.add(state.connectionId);
        this.hostIndex.set(hostId, set);
      }
    }
  }

  private unindex(connectionId: string): void {
    const socket = this.socketIndex?.get(connectionId);
    if (socket) this.bySocket.delete(socket.ws);
    this.socketIndex?.delete(connectionId);
    this.wildcard.delete(connectionId);
    for (const [hostId, set] of this.hostIndex) {
      set.delete(connectionId);
      if (set.size === 0) this.hostIndex.delete(hostId);
    }
  }

  /**
   * Stops everything for a socket that is closing or closed. `subscriptions`: its last known ones, for when the
   * index does not hold it (the object woke up for its close), so the agents of hosts it watched are told.
   */
  private drop(connectionId: string, subscriptions?: Subscription[]): void {
    const watched = hostsWatchedLive(this.socketIndex?.get(connectionId)?.state.subscriptions ?? subscriptions ?? []);
    this.unindex(connectionId);
    this.flow.forget(connectionId);
    if (watched.size > 0) this.agentControl.refresh(watched);
  }

  private save(ws: WebSocket, state: SocketAttachment): void {
    const before = this.socketIndex?.get(state.connectionId)?.state.subscriptions;
    ws.serializeAttachment(state);
    this.index(ws, state);
    // Most saves only move flood counters; a subscription change may start or end a host's live view.
    if (before && before !== state.subscriptions) {
      this.agentControl.refresh(changedHosts(hostsWatchedLive(before), hostsWatchedLive(state.subscriptions)));
    }
  }

  /** Sockets with a subscription to `stream` that covers `hostId` (null: any host), with those subscriptions. */
  private audience(stream: StreamKind, hostId: string | null): { socket: LiveSocket; subs: Subscription[] }[] {
    const sockets = this.sockets();
    const ids =
      hostId === null ? [...sockets.keys()] : [...new Set([...(this.hostIndex.get(hostId) ?? []), ...this.wildcard])];
    const result: { socket: LiveSocket; subs: Subscription[] }[] = [];
    for (const id of ids) {
      const socket = sockets.get(id);
      if (!socket) continue;
      const subs = matching(socket.state.subscriptions, stream, hostId);
      if (subs.length > 0) result.push({ socket, subs });
    }
    return result;
  }

  private liveWatchers(hostId: string): number {
    const sockets = this.sockets();
    let count = 0;
    for (const id of this.hostIndex.get(hostId) ?? []) {
      const socket = sockets.get(id);
      if (socket && watchesLive(socket.state.subscriptions, hostId)) count++;
    }
    return count;
  }

  // ---------------------------------------------------------------- data frames and flow control

  private frame(message: DistributiveOmit<DataMessage, 'seq'>): DataFrame {
    return dataFrame({ ...message, seq: ++this.seq } as DataMessage);
  }

  /**
   * Sends a data frame unless the socket has left too much unacknowledged: then it is told
   * `slow_consumer`, closed with 1013 and forgotten, so it gets nothing more (other sockets are not
   * affected). False when the socket is gone, so callers stop sending it the rest of a batch.
   */
  private deliver(socket: LiveSocket, frame: DataFrame, snapshot = false): boolean {
    const { connectionId } = socket.state;
    if (this.socketIndex?.get(connectionId)?.ws !== socket.ws) return false;
    if (!this.flow.admit(connectionId, frame.seq, frame.bytes, snapshot)) {
      this.closeSlow(
        socket.ws,
        connectionId,
        `more than ${MAX_UNACKED_FRAMES} frames or ${MAX_UNACKED_BYTES} bytes unacknowledged; send ack`,
      );
      return false;
    }
    sendFrame(socket.ws, frame.text);
    // All sockets together are bounded too: the ones furthest behind go first.
    for (const id of this.flow.overTenantBound()) {
      const victim = this.socketIndex?.get(id);
      if (victim)
        this.closeSlow(victim.ws, id, 'this organisation holds too much unacknowledged; you are furthest behind');
      else this.flow.forget(id);
    }
    return this.socketIndex?.has(connectionId) ?? false;
  }

  private closeSlow(ws: WebSocket, connectionId: string, message: string): void {
    this.drop(connectionId);
    send(ws, { type: 'error', code: 'slow_consumer', message });
    closeQuietly(ws, STREAM_CLOSE.tryAgainLater, 'too slow: acknowledge frames');
  }

  // ---------------------------------------------------------------- RPC from the Worker

  /**
   * The cadence for a host without a batch to deliver (the Worker answering a retried batch it
   * already stored): live while a socket watches the host, else `idle`.
   */
  async cadenceFor(hostId: string, idle: Cadence): Promise<Cadence> {
    return this.liveWatchers(hostId) > 0 ? LIVE_CADENCE : idle;
  }

  /**
   * Called by the Worker after a batch is stored: sends its live part to the sockets that follow
   * the host, updates the host's presence, and answers the cadence the agent should follow: every
   * second while a socket names the host in a `metrics` subscription, otherwise the idle cadence.
   */
  async recordBatch(batch: {
    hostId: string;
    samples: LiveSample[];
    events: AppEvent[];
    idle: Cadence;
    /** The Worker already had the samples shown by `showLive` while it stored them: do not send them again. */
    liveShown?: boolean;
    /** The batch's id: once its samples are sent, a retry of it through `showLive` is not shown again. */
    batchId?: string;
    /** What the alert engine evaluates; absent in tests of the live stream alone. */
    alerts?: { identity: AlertingIdentity; observation: BatchObservation };
  }): Promise<Cadence> {
    const { hostId, idle } = batch;
    const now = Date.now();
    const cadence = this.liveWatchers(hostId) > 0 ? LIVE_CADENCE : idle;

    const presence = await this.loadPresence();
    const before = presence.get(hostId);
    const newest = batch.samples.reduce((max, s) => Math.max(max, s.ts), 0);
    const lastSeen = Math.max(before?.lastSeen ?? 0, newest > 0 ? Math.min(newest, now) : 0);
    if (lastSeen > 0) {
      const next: Presence = { lastSeen, pushIntervalMs: cadence.pushIntervalMs, status: 'offline' };
      next.status = statusOf(next, now);
      presence.set(hostId, next);
      if (presenceNeedsWrite(this.storedPresence.get(hostId), next)) {
        await this.ctx.storage.put(`${PRESENCE_PREFIX}${hostId}`, next);
        this.storedPresence.set(hostId, next);
      }
      if (next.status !== before?.status) this.announceStatus(hostId, next, before?.status ?? null, now);
      // O(1) per batch: only ever bring the alarm forward. An alarm left too early (this host just pushed)
      // finds nothing to announce and reschedules over every host.
      const at = nextTransitionAt(next, now);
      const current = await this.ctx.storage.getAlarm();
      if (at !== null && (current === null || at < current)) await this.ctx.storage.setAlarm(at);
    }

    if (batch.samples.length > 0 && !batch.liveShown) {
      this.sendMetrics(hostId, batch.samples);
      if (batch.batchId) this.shownBatches.add(hostId, batch.batchId);
    }
    if (batch.alerts) {
      try {
        await this.alerting.observe(batch.alerts.identity, batch.alerts.observation, cadence.pushIntervalMs);
      } catch (error) {
        // Never the batch's problem: it is stored and shown; the evaluation is lost for this batch only.
        log('error', 'alert evaluation failed for a batch', { hostId, error: describeError(error) });
      }
    }
    const events = batch.events.slice(-MAX_LIVE_EVENTS_PER_BATCH);
    if (events.length > 0) {
      const audience = this.audience('events', hostId);
      for (const event of events) {
        let frame: DataFrame | undefined;
        for (const { socket, subs } of audience) {
          if (!wantsEvent(subs, event.kind)) continue;
          frame ??= this.frame({ type: 'event', hostId, event });
          this.deliver(socket, frame);
        }
      }
    }
    return cadence;
  }

  /**
   * A watched host's samples, sent live while the Worker stores their batch (decisions.md, "Live before the
   * commit"): `metrics` frames only. Presence, alerts and events wait for `recordBatch` after the commit.
   */
  async showLive(hostId: string, batchId: string, samples: LiveSample[]): Promise<boolean> {
    // A batch sent again (a retry) was shown the first time: true, so recordBatch does not send it either.
    if (this.shownBatches.has(hostId, batchId)) return true;
    this.shownBatches.add(hostId, batchId);
    if (samples.length > 0) this.sendMetrics(hostId, samples);
    return true;
  }

  /** A batch stored over its agent's control socket: what `recordBatch` does after an HTTP push's commit. */
  private async recordStoredBatch({ hostId, tenantId, origin, host, batch, result, liveShown }: StoredBatch) {
    await this.recordBatch({
      hostId,
      samples: result.samples.map(toLiveSample),
      events: batch.events ?? [],
      idle: idleCadence(parseConfig(this.env)),
      liveShown,
      batchId: batch.batch_id,
      alerts: {
        identity: { tenantId, origin },
        observation: batchObservation({ id: hostId, ...host }, { ...batch, samples: result.samples }),
      },
    });
  }

  /** One `metrics` frame per watching socket (the newest samples, one seq for the batch; live-fanout.ts). */
  private sendMetrics(hostId: string, batchSamples: readonly LiveSample[]): void {
    const samples = [...batchSamples].sort((a, b) => a.ts - b.ts).slice(-MAX_LIVE_SAMPLES_PER_MESSAGE);
    const sockets = this.sockets();
    fanOutMetrics(
      candidatesFor(sockets, this.hostIndex.get(hostId), this.wildcard),
      hostId,
      samples,
      ++this.seq,
      (socket, frame) => {
        this.deliver(socket, frame);
      },
    );
  }

  /** Sends an alert change to the sockets following alerts of its host (tenant-wide alerts: every alert subscriber). */
  async publishAlert(alert: ServerAlert['alert']): Promise<number> {
    let delivered = 0;
    let frame: DataFrame | undefined;
    for (const { socket, subs } of this.audience('alerts', alert.hostId)) {
      if (!wantsAlert(subs, alert.level)) continue;
      frame ??= this.frame({ type: 'alert', alert });
      if (this.deliver(socket, frame)) delivered++;
    }
    return delivered;
  }

  /**
   * The API wrote rules, channels, silences or maintenance windows: reload them before the next
   * evaluation. Answers the new version.
   */
  async alertConfigChanged(tenantId: string): Promise<number> {
    await this.alerting.configChanged({ tenantId });
    return ++this.alertConfigVersion;
  }

  /** The API recorded an acknowledgement in `alert_events`: re-notifying stops. */
  async acknowledgeAlert(tenantId: string, alertId: string): Promise<boolean> {
    this.acknowledgedAlerts.add(alertId);
    return this.alerting.acknowledge({ tenantId }, alertId);
  }

  /** "Send test" for a channel, through the outbox; answers the delivery-log line of the attempt. */
  async sendTestNotification(identity: AlertingIdentity, channelId: string): Promise<DeliveryRecord | null> {
    return this.alerting.sendTest(identity, channelId);
  }

  /**
   * A host was revoked or deleted: it leaves presence (no more status changes for it), its open alerts
   * end (`host_removed`), and the directory forgets it, so new subscriptions to it are refused.
   */
  async forgetHost(tenantId: string, hostId: string): Promise<void> {
    const presence = await this.loadPresence();
    this.storedPresence.delete(hostId);
    if (presence.delete(hostId)) await this.ctx.storage.delete(`${PRESENCE_PREFIX}${hostId}`);
    this.hostDirectory.forget(hostId);
    this.agentControl.forget(hostId);
    await this.alerting.forgetHost({ tenantId }, hostId);
  }

  /** Brings the alarm forward to `at` (never later: other deadlines may be earlier). */
  private async wakeAt(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.ctx.storage.setAlarm(at);
  }

  /**
   * Closes every socket of a user or API key with 4001 (their session or key is no longer valid, or
   * they left the organisation). For sign-out-everywhere, key revocation and member removal to call.
   */
  async disconnect(principal: { kind: 'user' | 'key'; id: string }, reason = 'signed out'): Promise<number> {
    const sockets = this.ctx.getWebSockets(principalTag(principal));
    // The index first (the object may have just woken up): the agents these sockets were the last watchers of
    // are told to relax, which needs a count without them.
    if (sockets.length > 0) this.sockets();
    for (const ws of sockets) {
      const state = readAttachment(ws);
      if (state) this.drop(state.connectionId, state.subscriptions);
      closeQuietly(ws, STREAM_CLOSE.unauthorized, reason);
    }
    return sockets.length;
  }

  // ---------------------------------------------------------------- presence and alarms

  private async loadPresence(): Promise<Map<string, Presence>> {
    if (this.presence) return this.presence;
    const stored = await this.ctx.storage.list<Presence>({ prefix: PRESENCE_PREFIX });
    const map = new Map<string, Presence>();
    for (const [key, value] of stored) map.set(key.slice(PRESENCE_PREFIX.length), value);
    if (!this.presence) for (const [hostId, p] of map) this.storedPresence.set(hostId, p);
    this.presence ??= map;
    return this.presence;
  }

  private announceStatus(hostId: string, p: Presence, previous: Presence['status'] | null, now: number): void {
    let frame: DataFrame | undefined;
    for (const { socket } of this.audience('host_status', hostId)) {
      frame ??= this.frame({
        type: 'host_status',
        hostId,
        status: p.status,
        previous,
        lastSeenAt: new Date(p.lastSeen).toISOString(),
        at: new Date(now).toISOString(),
      });
      this.deliver(socket, frame);
    }
  }

  /** Sends each socket the entries of the hosts its `host_status` subscriptions cover, in pages. */
  private announceStatuses(entries: readonly StatusEntry[], now: number): void {
    if (entries.length === 0) return;
    let shared: DataFrame[] | undefined; // for "*" subscribers, serialised once
    for (const socket of this.sockets().values()) {
      const subs = socket.state.subscriptions.filter((s) => s.streams.includes('host_status'));
      if (subs.length === 0) continue;
      if (subs.some((s) => s.hosts === '*')) {
        shared ??= statusPages(entries, now).map((page) => this.frame(page));
        this.sendPages(socket, shared, false);
      } else {
        const named = new Set(subs.flatMap((s) => (s.hosts === '*' ? [] : s.hosts)));
        this.sendStatusPages(
          socket,
          entries.filter((e) => named.has(e.hostId)),
          now,
          false,
        );
      }
    }
  }

  private sendStatusPages(socket: LiveSocket, entries: readonly StatusEntry[], now: number, snapshot: boolean): void {
    if (entries.length === 0) return;
    this.sendPages(
      socket,
      statusPages(entries, now).map((page) => this.frame(page)),
      snapshot,
    );
  }

  private sendPages(socket: LiveSocket, frames: readonly DataFrame[], snapshot: boolean): void {
    for (const frame of frames) if (!this.deliver(socket, frame, snapshot)) return;
  }

  /** Sets the alarm at the earliest pending status change of any host (or clears it); O(hosts), alarms only. */
  private async scheduleAlarm(now: number, alertingDue: number | null): Promise<void> {
    const presence = await this.loadPresence();
    let earliest: number | null = alertingDue;
    for (const p of presence.values()) {
      const at = nextTransitionAt(p, now);
      if (at !== null && (earliest === null || at < earliest)) earliest = at;
    }
    const current = await this.ctx.storage.getAlarm();
    if (earliest === null) {
      if (current !== null) await this.ctx.storage.deleteAlarm();
    } else if (current !== earliest) {
      await this.ctx.storage.setAlarm(earliest);
    }
  }

  /** Decides host status changes: online → stale → offline when pushes stop arriving. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const presence = await this.loadPresence();
    const changed: StatusEntry[] = [];
    const writes: Record<string, Presence> = {};
    // Presence is stored now and then, not per batch: before calling a host stale or offline, take its last
    // report from Postgres in case this object was evicted since it last wrote it.
    const fading = [...presence].filter(([, p]) => statusOf(p, now) !== p.status && p.status !== 'offline');
    const inDatabase = await lastSeenInDatabase(
      parseConfig(this.env),
      fading.map(([hostId]) => hostId),
    );
    for (const [hostId, lastSeen] of inDatabase) {
      const p = presence.get(hostId);
      if (p && lastSeen > p.lastSeen) presence.set(hostId, { ...p, lastSeen: Math.min(lastSeen, now) });
    }
    for (const [hostId, p] of presence) {
      const status = statusOf(p, now);
      if (status === p.status) continue;
      const next = { ...p, status };
      presence.set(hostId, next);
      writes[`${PRESENCE_PREFIX}${hostId}`] = next;
      changed.push(statusEntry(hostId, next, p.status));
    }
    // One storage call and, per socket, one frame per page for every host this alarm moved.
    if (changed.length > 0) {
      await this.ctx.storage.put(writes);
      for (const entry of changed) {
        const p = presence.get(entry.hostId);
        if (p) this.storedPresence.set(entry.hostId, p);
      }
    }
    this.announceStatuses(changed, now);
    let alertingDue: number | null = null;
    try {
      const silent = new Map<string, Presence>();
      for (const [hostId, p] of presence) if (p.status !== 'online') silent.set(hostId, p);
      alertingDue = await this.alerting.onAlarm(silent);
    } catch (error) {
      log('error', 'alerting failed in the alarm; trying again shortly', { error: describeError(error) });
      alertingDue = Date.now() + 30_000;
    }
    await this.scheduleAlarm(now, alertingDue);
  }

  // ---------------------------------------------------------------- sockets

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
      return jsonError(426, 'upgrade_required', 'Expected a WebSocket upgrade');
    }
    const tenantId = request.headers.get(TENANT_HEADER);
    const agentHost = request.headers.get(AGENT_HOST_HEADER);
    if (tenantId && agentHost) {
      return this.agentControl.accept({
        tenantId,
        hostId: agentHost,
        publicKey: request.headers.get(AGENT_KEY_HEADER) ?? '',
        origin: request.headers.get(AGENT_ORIGIN_HEADER) ?? '',
      });
    }
    const [kind, ...rest] = (request.headers.get(PRINCIPAL_HEADER) ?? '').split(':');
    const principal = Principal.safeParse({ kind, id: rest.join(':'), role: request.headers.get(ROLE_HEADER) });
    if (!tenantId || !principal.success) {
      return jsonError(
        400,
        'bad_request',
        `Missing or invalid ${TENANT_HEADER}, ${PRINCIPAL_HEADER} or ${ROLE_HEADER}`,
      );
    }
    const config = parseConfig(this.env);
    const maxTenant = positiveInt(
      request.headers.get(MAX_TENANT_CONNECTIONS_HEADER),
      config.STREAM_MAX_CONNECTIONS_PER_TENANT,
    );
    const maxPrincipal = positiveInt(
      request.headers.get(MAX_PRINCIPAL_CONNECTIONS_HEADER),
      config.STREAM_MAX_CONNECTIONS_PER_USER,
    );
    // Dashboard sockets only (tagged by tenant): the agents' control sockets are one per host, not a client's.
    if (this.ctx.getWebSockets(`tenant:${tenantId}`).length >= maxTenant) {
      return jsonError(429, 'too_many_connections', `This organisation has ${maxTenant} live connections open`);
    }
    if (this.ctx.getWebSockets(principalTag(principal.data)).length >= maxPrincipal) {
      return jsonError(429, 'too_many_connections', `You have ${maxPrincipal} live connections open; close some tabs`);
    }

    const { 0: client, 1: server } = new WebSocketPair();
    const now = Date.now();
    const state: SocketAttachment = {
      v: 1,
      connectionId: crypto.randomUUID(),
      tenantId,
      connectedAt: now,
      principal: principal.data,
      subscriptions: [],
      flood: freshFloodState(now),
    };
    this.ctx.acceptWebSocket(server, tagsFor(state));
    this.save(server, state);
    send(server, {
      type: 'hello',
      protocol: STREAM_PROTOCOL_VERSION,
      tenantId,
      connectionId: state.connectionId,
      serverTime: new Date(now).toISOString(),
      flow: { maxUnackedFrames: MAX_UNACKED_FRAMES, maxUnackedBytes: MAX_UNACKED_BYTES },
    });
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    if (ws.readyState !== OPEN) return; // closed by the object; saving its state would index it again
    this.sockets(); // rebuild the indexes first if the object just woke up
    // The socket's state from memory: an ack per frame per socket must not cost an attachment read and write.
    const socket = this.bySocket.get(ws);
    if (!socket) {
      const agent = agentIdentity(ws);
      if (agent) return this.agentIngest.message(ws, agent, raw);
      closeQuietly(ws, 1011, 'connection state lost; reconnect');
      return;
    }
    const charged = chargeMessage(socket.state.flood, Date.now());
    // Flood counters stay in memory (an attachment write per message would cost more than the message); the
    // attachment gets them with the next subscription change. A wake-up may restore older counters: a reset
    // in the client's favour, as for flow-control windows, and a flooding socket keeps the object awake.
    socket.state = { ...socket.state, flood: charged.state };
    const state = socket.state;
    if (charged.verdict === 'close') {
      this.drop(state.connectionId);
      closeQuietly(ws, STREAM_CLOSE.policyViolation, 'too many messages');
      return;
    }
    if (charged.verdict !== 'accept') {
      if (charged.verdict === 'refuse_and_warn') {
        send(ws, { type: 'error', code: 'rate_limited', message: 'Too many messages; slow down or be disconnected' });
      }
      return;
    }

    const decoded = decodeClientMessage(raw);
    if (!decoded.ok) {
      send(ws, decoded.error);
      return;
    }
    const message = decoded.message;
    switch (message.type) {
      case 'ack':
        if (this.flow.ack(state.connectionId, message.seq) === 'forged') {
          this.drop(state.connectionId);
          send(ws, { type: 'error', code: 'invalid_ack', message: `seq ${message.seq} was never sent to this socket` });
          closeQuietly(ws, STREAM_CLOSE.policyViolation, 'acknowledged frames it was not sent');
        }
        return;
      case 'ping':
        send(ws, { type: 'pong', ...(message.id ? { id: message.id } : {}) });
        return;
      case 'get_status':
        send(ws, {
          type: 'status',
          connections: this.ctx.getWebSockets(`tenant:${state.tenantId}`).length,
          uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
          subscriptions: state.subscriptions,
        });
        return;
      case 'subscribe':
      case 'unsubscribe':
        await this.subscriptionChanges.run(state.connectionId, () => this.changeSubscriptions(ws, message));
        return;
    }
  }

  /**
   * Applies a subscribe or unsubscribe, all or nothing. A subscribe naming ids that are not the
   * tenant's hosts is refused (`unknown_host`). Runs in order per socket, and re-reads the socket's
   * state after the host check, which may have waited on Postgres while other messages came in.
   */
  private async changeSubscriptions(ws: WebSocket, message: ClientSubscribe | ClientUnsubscribe): Promise<void> {
    const echo = message.id ? { id: message.id } : {};
    if (message.type === 'subscribe' && message.hosts !== '*') {
      const tenantId = this.bySocket.get(ws)?.state.tenantId;
      const presence = await this.loadPresence();
      const unknown = tenantId
        ? await this.hostDirectory.unknownAmong(tenantId, message.hosts, (id) => presence.has(id))
        : [];
      if (unknown.length > 0) {
        send(ws, {
          type: 'error',
          code: 'unknown_host',
          message: `not hosts of this organisation: ${unknown.join(', ')}`,
          ...echo,
          hostIds: unknown,
        });
        return;
      }
    }
    const state = this.bySocket.get(ws)?.state;
    if (!state || ws.readyState !== OPEN || !this.socketIndex?.has(state.connectionId)) return;
    const subscriptions =
      message.type === 'subscribe'
        ? applySubscribe(state.subscriptions, message)
        : applyUnsubscribe(state.subscriptions, message);
    const next = { ...state, subscriptions };
    const tooMany =
      subscriptionLimitError(subscriptions) ??
      (attachmentSize(next) > MAX_ATTACHMENT_BYTES ? 'subscriptions too large to keep; use fewer filters' : null);
    if (tooMany) {
      send(ws, { type: 'error', code: 'too_many_subscriptions', message: tooMany, ...echo });
      return;
    }
    this.save(ws, next);
    send(ws, { type: 'subscribed', ...echo, subscriptions });
    if (message.type === 'subscribe' && message.streams.includes('host_status')) {
      await this.sendCurrentStatus(ws, state.connectionId, message.hosts);
    }
  }

  /** After a host_status subscription, the current status of the hosts it covers that the object knows. */
  private async sendCurrentStatus(ws: WebSocket, connectionId: string, hosts: '*' | string[]): Promise<void> {
    const presence = await this.loadPresence();
    const socket = this.socketIndex?.get(connectionId);
    if (!socket || socket.ws !== ws) return;
    const ids = hosts === '*' ? [...presence.keys()] : hosts.filter((id) => presence.has(id));
    const entries: StatusEntry[] = [];
    for (const hostId of ids) {
      const p = presence.get(hostId);
      if (p) entries.push(statusEntry(hostId, p, null));
    }
    this.sendStatusPages(socket, entries, Date.now(), true);
  }

  /**
   * A dashboard socket closed or failed. When it watched hosts live, the index is built first (the object may
   * have just woken up), so the agents of hosts it was the last watcher of are told to relax.
   */
  private leave(state: SocketAttachment): void {
    if (hostsWatchedLive(state.subscriptions).size > 0) this.sockets();
    this.drop(state.connectionId, state.subscriptions);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    const state = readAttachment(ws);
    if (state) this.leave(state);
    // Complete the closing handshake; 1005/1006 are reserved and may not be sent back.
    closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code, reason);
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    const state = readAttachment(ws);
    if (state) this.leave(state);
    log('warn', 'tenant socket error', {
      connectionId: state?.connectionId,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
