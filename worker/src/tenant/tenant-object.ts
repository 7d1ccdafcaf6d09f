import { DurableObject } from 'cloudflare:workers';
import { type Cadence, LIVE_CADENCE, type ServerMessage, STREAM_PROTOCOL_VERSION } from '@pulsewire/protocol';
import type { Env } from '../env.ts';
import { log } from '../http/logger.ts';
import { decodeClientMessage } from './client-messages.ts';
import { readAttachment, type SocketAttachment } from './socket-attachment.ts';

/** Header by which the Worker, after authenticating, tells the object whose socket it forwards. */
export const TENANT_HEADER = 'X-Pulsewire-Tenant';

function send(ws: WebSocket, message: ServerMessage): void {
  try {
    ws.send(JSON.stringify(message));
  } catch {
    // The peer is gone; the runtime will deliver webSocketClose.
  }
}

/**
 * One per tenant (`idFromName(tenantId)`): the only holder of live state. Sockets are accepted
 * with the hibernation API so the object can be evicted between messages and keep every client.
 */
export class TenantObject extends DurableObject<Env> {
  private readonly startedAt = Date.now();
  /** Newest sample time per host, as last reported by ingest (kept in memory: it is re-learnt on the next batch). */
  private readonly lastSeen = new Map<string, number>();

  /**
   * Called by the Worker after a batch is stored. Answers the cadence the host's agent should
   * follow: every second while someone watches it live, otherwise the service's idle cadence.
   */
  async recordBatch(hostId: string, newestSampleMs: number, idle: Cadence): Promise<Cadence> {
    this.lastSeen.set(hostId, Math.max(this.lastSeen.get(hostId) ?? 0, newestSampleMs));
    return this.watchers(hostId) > 0 ? LIVE_CADENCE : idle;
  }

  /** Sockets watching a host live. Subscriptions arrive with the live dashboard; none exist before. */
  private watchers(hostId: string): number {
    return this.ctx.getWebSockets(`watch:${hostId}`).length;
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
      return Response.json(
        { error: { code: 'upgrade_required', message: 'Expected a WebSocket upgrade' } },
        { status: 426 },
      );
    }
    const tenantId = request.headers.get(TENANT_HEADER);
    if (!tenantId) {
      return Response.json({ error: { code: 'bad_request', message: `Missing ${TENANT_HEADER}` } }, { status: 400 });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    const attachment: SocketAttachment = { connectionId: crypto.randomUUID(), tenantId, connectedAt: Date.now() };
    this.ctx.acceptWebSocket(server, [`tenant:${tenantId}`]);
    server.serializeAttachment(attachment);
    send(server, {
      type: 'hello',
      protocol: STREAM_PROTOCOL_VERSION,
      tenantId,
      connectionId: attachment.connectionId,
      serverTime: new Date().toISOString(),
    });
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    const attachment = readAttachment(ws);
    if (!attachment) {
      ws.close(1011, 'connection state lost');
      return;
    }
    const decoded = decodeClientMessage(raw);
    if (!decoded.ok) {
      send(ws, decoded.error);
      return;
    }
    const message = decoded.message;
    switch (message.type) {
      case 'ping':
        send(ws, { type: 'pong', ...(message.id ? { id: message.id } : {}) });
        return;
      case 'get_status':
        send(ws, {
          type: 'status',
          connections: this.ctx.getWebSockets().length,
          uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
        });
        return;
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // Complete the closing handshake; 1005/1006 are reserved and may not be sent back.
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    log('warn', 'tenant socket error', {
      connectionId: readAttachment(ws)?.connectionId,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
