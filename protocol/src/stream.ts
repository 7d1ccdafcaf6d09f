import { z } from 'zod';

/**
 * Dashboard WebSocket protocol (design.md, "Dashboard WebSocket protocol").
 * Only the connection-level messages exist so far; subscriptions arrive with the live issue.
 */
export const STREAM_PROTOCOL_VERSION = 1;

/** Client messages larger than this are refused with an `error` (code `message_too_large`). */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

export const ClientPing = z.object({ type: z.literal('ping'), id: z.string().max(64).optional() });
export const ClientGetStatus = z.object({ type: z.literal('get_status') });

export const ClientMessage = z.discriminatedUnion('type', [ClientPing, ClientGetStatus]);
export type ClientMessage = z.infer<typeof ClientMessage>;

export const ServerHello = z.object({
  type: z.literal('hello'),
  protocol: z.literal(STREAM_PROTOCOL_VERSION),
  tenantId: z.string(),
  connectionId: z.string(),
  serverTime: z.iso.datetime(),
});
export const ServerPong = z.object({ type: z.literal('pong'), id: z.string().optional() });
export const ServerStatus = z.object({
  type: z.literal('status'),
  connections: z.number().int().nonnegative(),
  uptimeSeconds: z.number().nonnegative(),
});
export const streamErrorCodes = ['invalid_message', 'message_too_large', 'unknown_type', 'rate_limited'] as const;
export const ServerError = z.object({
  type: z.literal('error'),
  code: z.enum(streamErrorCodes),
  message: z.string(),
});

export const ServerMessage = z.discriminatedUnion('type', [ServerHello, ServerPong, ServerStatus, ServerError]);
export type ServerMessage = z.infer<typeof ServerMessage>;
