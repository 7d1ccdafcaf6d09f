import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import {
  type FakeServer,
  parseJson,
  pathOf,
  replyJson,
  replyText,
  type ScriptedResponse,
  Scripts,
  sleep,
  startFakeServer,
} from './http-fake.ts';

/**
 * A webhook receiver as a careful customer would write one: every request is verified with the
 * `standardwebhooks` library (`Webhook.verify`: signature over id.timestamp.body, ±5 min of clock
 * skew) and deduplicated by `webhook-id`, so a re-sent message is acknowledged but processed once.
 * Tests register an endpoint path with its secret and may script failures first (e.g. 500 twice,
 * 429 with `Retry-After`, 410, or a slow answer).
 *
 * Over HTTP, for tests inside workerd: `POST /_endpoints {path, secret, responses?, sticky?}` and
 * `GET /_received?path=` → `{attempts, deliveries}`.
 */

export interface WebhookAttempt {
  path: string;
  webhookId: string | null;
  timestamp: string | null;
  signatures: string[];
  verified: boolean;
  status: number;
  at: number;
}

export interface WebhookDelivery {
  path: string;
  webhookId: string;
  payload: unknown;
  at: number;
}

export interface FakeWebhookReceiver extends FakeServer {
  attempts: WebhookAttempt[];
  /** One per distinct webhook-id that verified: what the customer's system processed. */
  deliveries: WebhookDelivery[];
  register(path: string, secret: string, responses?: ScriptedResponse[], sticky?: boolean): void;
}

const Endpoint = z.object({
  path: z.string().startsWith('/'),
  secret: z.string().startsWith('whsec_'),
  responses: z
    .array(
      z.object({
        status: z.number().int(),
        body: z.string().optional(),
        retryAfterSeconds: z.number().optional(),
        delayMs: z.number().optional(),
      }),
    )
    .default([]),
  sticky: z.boolean().default(false),
});

export async function startFakeWebhookReceiver(): Promise<FakeWebhookReceiver> {
  const attempts: WebhookAttempt[] = [];
  const deliveries: WebhookDelivery[] = [];
  const secrets = new Map<string, string>();
  const scripts = new Scripts();
  const register = (path: string, secret: string, responses: ScriptedResponse[] = [], sticky = false) => {
    secrets.set(path, secret);
    scripts.set(path, responses, sticky);
  };

  const server = await startFakeServer(async (req, body, res) => {
    const { path, query } = pathOf(req);
    if (req.method === 'GET' && path === '/_received') {
      const wanted = query.get('path');
      const mine = <T extends { path: string }>(list: T[]) => list.filter((x) => !wanted || x.path === wanted);
      return replyJson(res, 200, { attempts: mine(attempts), deliveries: mine(deliveries) });
    }
    if (req.method === 'POST' && path === '/_endpoints') {
      const endpoint = Endpoint.parse(parseJson(body));
      register(endpoint.path, endpoint.secret, endpoint.responses, endpoint.sticky);
      return replyText(res, 204, '');
    }
    const secret = secrets.get(path);
    if (req.method !== 'POST' || !secret) return replyText(res, 404, 'no such endpoint');

    const header = (name: string) => {
      const value = req.headers[name];
      return typeof value === 'string' ? value : null;
    };
    const attempt: WebhookAttempt = {
      path,
      webhookId: header('webhook-id'),
      timestamp: header('webhook-timestamp'),
      signatures: (header('webhook-signature') ?? '').split(' ').filter(Boolean),
      verified: false,
      status: 0,
      at: Date.now(),
    };
    attempts.push(attempt);
    let payload: unknown;
    try {
      payload = new Webhook(secret).verify(body, {
        'webhook-id': attempt.webhookId ?? '',
        'webhook-timestamp': attempt.timestamp ?? '',
        'webhook-signature': header('webhook-signature') ?? '',
      });
      attempt.verified = true;
    } catch {
      attempt.status = 401;
      return replyText(res, 401, 'invalid signature');
    }
    const scripted = scripts.next(path);
    if (scripted) {
      if (scripted.delayMs) await sleep(scripted.delayMs);
      attempt.status = scripted.status;
      const headers: Record<string, string> =
        scripted.retryAfterSeconds === undefined ? {} : { 'retry-after': String(scripted.retryAfterSeconds) };
      return replyText(res, scripted.status, scripted.body ?? '', headers);
    }
    // Idempotent on webhook-id: a message re-sent after a lost answer is acknowledged, not processed twice.
    if (!deliveries.some((d) => d.path === path && d.webhookId === attempt.webhookId)) {
      deliveries.push({ path, webhookId: attempt.webhookId ?? '', payload, at: Date.now() });
    }
    attempt.status = 204;
    return replyText(res, 204, '');
  });
  return { ...server, attempts, deliveries, register };
}
