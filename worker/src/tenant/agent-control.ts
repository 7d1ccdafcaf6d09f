import {
  type Cadence,
  CONTROL_CLOSE,
  type ControlServerMessage,
  LIVE_CADENCE,
  type Subscription,
} from '@pulsewire/protocol';
import { z } from 'zod';

/**
 * The agents' control sockets (issue #13, item 1). Each running agent keeps one WebSocket to its tenant object,
 * accepted with the hibernation API: an idle connection costs nothing while the object sleeps, and the object
 * tells the agent to go live the moment the first dashboard starts watching its host, and to relax when the
 * last one leaves, instead of in the answer to the agent's next push (up to 30 s later).
 *
 * What the agent was last told lives in the socket's attachment, so a woken object compares against it and
 * sends only changes; nothing about these sockets is kept in memory.
 */

/** Set by the Worker after it verified the host's signature: the object accepts an agent socket for this host. */
export const AGENT_HOST_HEADER = 'X-Pulsewire-Agent-Host';
/** With it, the public key that signature was checked with: the object verifies the socket's batches with it. */
export const AGENT_KEY_HEADER = 'X-Pulsewire-Agent-Key';
/** And the dashboard's public origin, for links in the notifications a batch on the socket may cause. */
export const AGENT_ORIGIN_HEADER = 'X-Pulsewire-Agent-Origin';

/** Who an agent socket speaks for, as the Worker authenticated the upgrade. */
export interface AgentIdentity {
  tenantId: string;
  hostId: string;
  publicKey: string;
  origin: string;
}

/** Tag of every agent socket, and of the sockets of one host. Dashboard sockets carry `tenant:<id>` instead. */
export const AGENT_SOCKETS_TAG = 'agents';
export function agentTag(hostId: string): string {
  return `agent:${hostId}`;
}

export const AgentAttachment = z.object({
  v: z.literal(1),
  kind: z.literal('agent'),
  hostId: z.string(),
  tenantId: z.string(),
  connectedAt: z.number(),
  /** Whether the agent was last told the live cadence (else the idle one). */
  live: z.boolean(),
  /**
   * The host's public key and the dashboard's origin when the socket was accepted (stored batches are verified
   * with the key). Absent on sockets accepted before batches could travel on them: those are asked to reconnect.
   */
  publicKey: z.string().optional(),
  origin: z.string().optional(),
});
export type AgentAttachment = z.infer<typeof AgentAttachment>;

export function readAgentAttachment(ws: WebSocket): AgentAttachment | undefined {
  let raw: unknown;
  try {
    raw = ws.deserializeAttachment();
  } catch {
    return undefined;
  }
  const parsed = AgentAttachment.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Who an agent socket speaks for never changes over its life, so it is read from the attachment once per socket
 * and object instance: a batch a second per host must not cost an attachment read and a schema parse each.
 */
const identities = new WeakMap<WebSocket, AgentAttachment>();

/** The agent socket's attachment as it was first read by this instance (its `live` may be stale; the rest is not). */
export function agentIdentity(ws: WebSocket): AgentAttachment | undefined {
  let identity = identities.get(ws);
  if (!identity) {
    identity = readAgentAttachment(ws);
    if (identity) identities.set(ws, identity);
  }
  return identity;
}

/** The hosts a socket's subscriptions make live: named explicitly in a `metrics` subscription (`"*"` is not). */
export function hostsWatchedLive(subscriptions: readonly Subscription[]): Set<string> {
  const hosts = new Set<string>();
  for (const s of subscriptions) {
    if (s.hosts === '*' || !s.streams.includes('metrics')) continue;
    for (const hostId of s.hosts) hosts.add(hostId);
  }
  return hosts;
}

/** Hosts in one set and not the other: those whose watcher count may have crossed zero. */
export function changedHosts(before: ReadonlySet<string>, after: ReadonlySet<string>): string[] {
  const changed: string[] = [];
  for (const hostId of before) if (!after.has(hostId)) changed.push(hostId);
  for (const hostId of after) if (!before.has(hostId)) changed.push(hostId);
  return changed;
}

export interface AgentControlDeps {
  /** Whether at least one dashboard socket watches the host live now. */
  watchedLive(hostId: string): boolean;
  /** The cadence of an unwatched host (the same the push answer uses). */
  idle(): Cadence;
}

function sendQuietly(ws: WebSocket, message: ControlServerMessage): boolean {
  try {
    ws.send(JSON.stringify(message));
    return true;
  } catch {
    return false; // the peer is gone; the runtime delivers webSocketClose
  }
}

function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closed
  }
}

/** Accepts agent control sockets and keeps each agent told the cadence that matches its watchers. */
export class AgentControl {
  readonly #ctx: DurableObjectState;
  readonly #deps: AgentControlDeps;

  constructor(ctx: DurableObjectState, deps: AgentControlDeps) {
    this.#ctx = ctx;
    this.#deps = deps;
  }

  #cadence(hostId: string): Cadence {
    return this.#deps.watchedLive(hostId) ? LIVE_CADENCE : this.#deps.idle();
  }

  /**
   * Accepts the socket of an agent the Worker authenticated, and tells it the current cadence at once. One
   * socket per host: an older one (a restarted agent whose old connection has not timed out) is closed.
   */
  accept({ tenantId, hostId, publicKey, origin }: AgentIdentity): Response {
    for (const old of this.#ctx.getWebSockets(agentTag(hostId))) {
      closeQuietly(old, CONTROL_CLOSE.replaced, 'replaced by a newer control socket of this host');
    }
    const { 0: client, 1: server } = new WebSocketPair();
    const cadence = this.#cadence(hostId);
    const state: AgentAttachment = {
      v: 1,
      kind: 'agent',
      hostId,
      tenantId,
      connectedAt: Date.now(),
      live: cadence.live,
      publicKey,
      origin,
    };
    this.#ctx.acceptWebSocket(server, [AGENT_SOCKETS_TAG, agentTag(hostId)]);
    server.serializeAttachment(state);
    sendQuietly(server, { type: 'cadence', cadence });
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Tells the agents of these hosts their cadence where it differs from what they were last told. Called with
   * the hosts whose live watchers may have changed (a subscribe, an unsubscribe, a dashboard socket leaving).
   */
  refresh(hostIds: Iterable<string>): void {
    for (const hostId of hostIds) {
      const sockets = this.#ctx.getWebSockets(agentTag(hostId));
      if (sockets.length === 0) continue;
      const cadence = this.#cadence(hostId);
      for (const ws of sockets) {
        const state = readAgentAttachment(ws);
        if (!state || state.live === cadence.live) continue;
        if (sendQuietly(ws, { type: 'cadence', cadence })) ws.serializeAttachment({ ...state, live: cadence.live });
      }
    }
  }

  /** The host was revoked or deleted: its agent's socket closes (its next push is told why, and it stops). */
  forget(hostId: string): void {
    for (const ws of this.#ctx.getWebSockets(agentTag(hostId))) {
      closeQuietly(ws, CONTROL_CLOSE.revoked, 'host revoked');
    }
  }
}
