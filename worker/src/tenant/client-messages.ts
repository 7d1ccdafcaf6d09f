import { ClientMessage, MAX_CLIENT_MESSAGE_BYTES, type ServerMessage } from '@pulsewire/protocol';

type Decoded = { ok: true; message: ClientMessage } | { ok: false; error: Extract<ServerMessage, { type: 'error' }> };

const fail = (code: 'invalid_message' | 'message_too_large' | 'unknown_type', message: string): Decoded => ({
  ok: false,
  error: { type: 'error', code, message },
});

/** Every client frame passes here: size, JSON, then the protocol schema. */
export function decodeClientMessage(raw: string | ArrayBuffer): Decoded {
  const size = typeof raw === 'string' ? new TextEncoder().encode(raw).byteLength : raw.byteLength;
  if (size > MAX_CLIENT_MESSAGE_BYTES) {
    return fail('message_too_large', `messages are limited to ${MAX_CLIENT_MESSAGE_BYTES} bytes`);
  }
  if (typeof raw !== 'string') return fail('invalid_message', 'binary frames are not accepted; send JSON text');
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return fail('invalid_message', 'message is not valid JSON');
  }
  const parsed = ClientMessage.safeParse(value);
  if (parsed.success) return { ok: true, message: parsed.data };
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  const known = ClientMessage.options.some((option) => option.shape.type.value === type);
  if (!known) return fail('unknown_type', `unknown message type ${JSON.stringify(type ?? null)}`);
  const issue = parsed.error.issues[0];
  return fail('invalid_message', `${issue?.path.join('.') || 'message'}: ${issue?.message ?? 'invalid'}`);
}
