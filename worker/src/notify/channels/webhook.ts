import { WEBHOOK_PAYLOAD_VERSION, type WebhookPayload } from '@pulsewire/protocol';
import { Webhook } from 'standardwebhooks';
import type { Notification, SendOptions, SendResult } from '../types.ts';
import { isResponse, parseRetryAfter, postJson, readSnippet } from './http.ts';

/**
 * Webhook channel, per Standard Webhooks 1.0: the versioned JSON payload, signed with every current
 * secret (`webhook-signature: v1,<sig> v1,<sig>` during a rotation), `webhook-id` = the message id
 * (stable across retries, the receiver's idempotency key) and `webhook-timestamp` of this attempt.
 */

export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** `whsec_` + base64 of 32 random bytes; shown to the user once. */
export function generateWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return WEBHOOK_SECRET_PREFIX + btoa(String.fromCharCode(...bytes));
}

/** The body: `{type, timestamp, data}`, `data.version` for receivers to branch on. */
export function webhookPayload(message: Notification): WebhookPayload {
  return {
    type: `alert.${message.kind}`,
    timestamp: new Date(message.createdAt).toISOString(),
    data: {
      version: WEBHOOK_PAYLOAD_VERSION,
      kind: message.kind,
      groupKey: message.groupKey,
      organizationId: message.organizationId,
      summary: message.summary,
      alerts: message.alerts,
      externalUrl: message.externalUrl,
    },
  };
}

export function signatureHeaders(secrets: readonly string[], id: string, at: number, body: string) {
  const timestamp = new Date(at);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(id, timestamp, body)).join(' '),
  };
}

/** 2xx delivered; 410 permanent (disable); everything else, 3xx included, retries; 429/502/504 with `Retry-After`. */
export async function sendWebhook(
  url: string,
  secrets: readonly string[],
  message: Notification,
  options: SendOptions,
): Promise<SendResult> {
  if (secrets.length === 0) return { outcome: 'permanent', status: null, error: 'the channel has no signing secret' };
  const body = JSON.stringify(webhookPayload(message));
  const res = await postJson(url, body, signatureHeaders(secrets, message.id, options.now, body), options.signal);
  if (!isResponse(res)) return res;
  if (res.status >= 200 && res.status < 300) {
    await res.body?.cancel();
    return { outcome: 'delivered', status: res.status };
  }
  const snippet = await readSnippet(res);
  const error = `HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`;
  if (res.status === 410) return { outcome: 'permanent', status: 410, error: `the endpoint is gone (410)` };
  if (res.status >= 300 && res.status < 400) {
    return { outcome: 'retry', status: res.status, error: `HTTP ${res.status}: redirects are not followed` };
  }
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), options.now);
  return { outcome: 'retry', status: res.status, error, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
}
