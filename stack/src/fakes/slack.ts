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
 * A stand-in for Slack incoming webhooks (`POST /services/…`). It checks what Slack checks that we
 * rely on — JSON, a `text` fallback, Block Kit limits (≤ 50 blocks, header ≤ 150 characters,
 * section text ≤ 3000, ≤ 10 fields) at the top level and in attachments — and answers `ok`, or
 * `400 invalid_payload` like Slack. Tests script other answers per webhook path: `429` with
 * `Retry-After`, `404 channel_not_found`, `410 channel_is_archived`…
 *
 * Over HTTP, for tests inside workerd: `POST /_script {path, responses, sticky}` and
 * `GET /_received?path=` (the messages accepted).
 */

const Text = z.object({ type: z.enum(['plain_text', 'mrkdwn']), text: z.string().min(1) });
const Block = z.looseObject({ type: z.string().min(1) }).superRefine((block, ctx) => {
  const b = block as { type: string; text?: unknown; fields?: unknown; elements?: unknown };
  if (b.type === 'header') {
    const text = Text.safeParse(b.text);
    if (!text.success || text.data.type !== 'plain_text' || text.data.text.length > 150) {
      ctx.addIssue({ code: 'custom', message: 'header text must be plain_text of at most 150 characters' });
    }
  }
  if (b.type === 'section') {
    const text = b.text === undefined ? null : Text.safeParse(b.text);
    const fields = b.fields === undefined ? null : z.array(Text).max(10).safeParse(b.fields);
    if (!text && !fields) ctx.addIssue({ code: 'custom', message: 'a section needs text or fields' });
    if (text && (!text.success || text.data.text.length > 3000)) {
      ctx.addIssue({ code: 'custom', message: 'section text must be at most 3000 characters' });
    }
    if (fields && (!fields.success || fields.data.some((f) => f.text.length > 2000))) {
      ctx.addIssue({ code: 'custom', message: 'at most 10 section fields of at most 2000 characters' });
    }
  }
  if ((b.type === 'context' || b.type === 'actions') && !z.array(z.object({})).min(1).safeParse(b.elements).success) {
    ctx.addIssue({ code: 'custom', message: `${b.type} needs elements` });
  }
});
const Blocks = z.array(Block).max(50);

export const SlackWebhookBody = z.object({
  text: z.string().min(1),
  blocks: Blocks.optional(),
  attachments: z
    .array(z.object({ color: z.string().optional(), fallback: z.string().optional(), blocks: Blocks.optional() }))
    .max(100)
    .optional(),
});
export type SlackWebhookBody = z.infer<typeof SlackWebhookBody>;

export interface SlackReceived {
  path: string;
  body: SlackWebhookBody;
  at: number;
}

export interface FakeSlack extends FakeServer {
  received: SlackReceived[];
  /** Every request, accepted or not. */
  requests: { path: string; at: number }[];
  script(path: string, responses: ScriptedResponse[], sticky?: boolean): void;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const received: SlackReceived[] = [];
  const requests: { path: string; at: number }[] = [];
  const scripts = new Scripts();
  const server = await startFakeServer(async (req, body, res) => {
    const { path, query } = pathOf(req);
    if (req.method === 'GET' && path === '/_received') {
      const wanted = query.get('path');
      return replyJson(res, 200, {
        messages: received.filter((m) => !wanted || m.path === wanted),
        requests: requests.filter((r) => !wanted || r.path === wanted).length,
      });
    }
    if (req.method === 'POST' && path === '/_script') {
      const script = z
        .object({
          path: z.string().startsWith('/services/'),
          responses: z.array(
            z.object({
              status: z.number().int(),
              body: z.string().optional(),
              retryAfterSeconds: z.number().optional(),
              delayMs: z.number().optional(),
            }),
          ),
          sticky: z.boolean().default(false),
        })
        .parse(parseJson(body));
      scripts.set(script.path, script.responses, script.sticky);
      return replyText(res, 204, '');
    }
    if (req.method !== 'POST' || !path.startsWith('/services/')) return replyText(res, 404, 'no_service');
    requests.push({ path, at: Date.now() });
    const scripted = scripts.next(path);
    if (scripted) {
      if (scripted.delayMs) await sleep(scripted.delayMs);
      const headers: Record<string, string> =
        scripted.retryAfterSeconds === undefined ? {} : { 'retry-after': String(scripted.retryAfterSeconds) };
      return replyText(res, scripted.status, scripted.body ?? '', headers);
    }
    if (!req.headers['content-type']?.startsWith('application/json')) return replyText(res, 400, 'invalid_payload');
    const parsed = SlackWebhookBody.safeParse(parseJson(body));
    if (!parsed.success) return replyText(res, 400, 'invalid_payload');
    received.push({ path, body: parsed.data, at: Date.now() });
    return replyText(res, 200, 'ok');
  });
  return { ...server, received, requests, script: (path, responses, sticky) => scripts.set(path, responses, sticky) };
}
