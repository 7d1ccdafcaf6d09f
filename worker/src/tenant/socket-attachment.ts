import { z } from 'zod';

/**
 * Per-socket state kept with the socket itself (`serializeAttachment`), so it survives the object
 * hibernating between messages.
 */
export const SocketAttachment = z.object({
  connectionId: z.string(),
  tenantId: z.string(),
  connectedAt: z.number(),
});
export type SocketAttachment = z.infer<typeof SocketAttachment>;

export function readAttachment(ws: WebSocket): SocketAttachment | undefined {
  const parsed = SocketAttachment.safeParse(ws.deserializeAttachment());
  return parsed.success ? parsed.data : undefined;
}
