import { Subscription } from '@pulsewire/protocol';
import { z } from 'zod';
import { FloodState } from './flood.ts';

/** Who holds a socket: a signed-in user, or a `read` API key (both act with their role). */
export const Principal = z.object({
  kind: z.enum(['user', 'key']),
  id: z.string().min(1),
  role: z.enum(['owner', 'admin', 'viewer']),
});
export type Principal = z.infer<typeof Principal>;

/**
 * Per-socket state kept with the socket itself (`serializeAttachment`), so it survives the object
 * hibernating between messages. Kept under {@link MAX_ATTACHMENT_BYTES}: the runtime refuses
 * larger attachments, so subscriptions that would not fit are refused with `too_many_subscriptions`.
 */
export const SocketAttachment = z.object({
  v: z.literal(1),
  connectionId: z.string(),
  tenantId: z.string(),
  connectedAt: z.number(),
  principal: Principal,
  subscriptions: z.array(Subscription),
  flood: FloodState,
});
export type SocketAttachment = z.infer<typeof SocketAttachment>;

/** workerd allows 16 KiB per attachment; keep a margin for the structured-clone overhead. */
export const MAX_ATTACHMENT_BYTES = 12 * 1024;

export function attachmentSize(attachment: SocketAttachment): number {
  return new TextEncoder().encode(JSON.stringify(attachment)).byteLength;
}

export function readAttachment(ws: WebSocket): SocketAttachment | undefined {
  let raw: unknown;
  try {
    raw = ws.deserializeAttachment();
  } catch {
    return undefined;
  }
  const parsed = SocketAttachment.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

export function tagsFor(attachment: Pick<SocketAttachment, 'tenantId' | 'principal'>): string[] {
  return [`tenant:${attachment.tenantId}`, principalTag(attachment.principal)];
}

export function principalTag(principal: Pick<Principal, 'kind' | 'id'>): string {
  return `${principal.kind}:${principal.id}`;
}
