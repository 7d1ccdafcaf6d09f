import type http from 'node:http';
import { AppEvent, Labels, MetricName, metricKinds } from '@pulsewire/protocol';
import * as z from 'zod';
import { nodeHttp } from '../builtins.ts';
import type { Logger } from '../log.ts';
import type { IntakeBuffer } from './aggregator.ts';

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_ITEMS = 1000;

/** One observation; `kind` defaults to gauge. A histogram value is one observation (e.g. a duration in ms). */
export const MetricInput = z
  .object({
    name: MetricName,
    kind: z.enum(metricKinds).default('gauge'),
    value: z.union([z.number(), z.string().max(200)]),
    labels: Labels.optional(),
  })
  .refine((m) => m.kind === 'set' || typeof m.value === 'number', {
    message: 'value must be a number (strings only for sets)',
    path: ['value'],
  });

export const MetricsBody = z.union([
  z.object({ metrics: z.array(MetricInput).min(1).max(MAX_ITEMS) }),
  z.array(MetricInput).min(1).max(MAX_ITEMS),
  MetricInput,
]);

/** An event as applications send it: `ts` optional (now), as epoch ms or an ISO 8601 string. */
export const EventInput = AppEvent.extend({
  ts: z.union([z.number(), z.iso.datetime({ offset: true }).transform((iso) => Date.parse(iso))]).optional(),
});

export const EventsBody = z.union([
  z.object({ events: z.array(EventInput).min(1).max(MAX_ITEMS) }),
  z.array(EventInput).min(1).max(MAX_ITEMS),
  EventInput,
]);

function list<T>(body: T | T[] | Record<string, T[]>, key: string): T[] {
  if (Array.isArray(body)) return body;
  const wrapped = (body as Record<string, T[]>)[key];
  return Array.isArray(wrapped) ? wrapped : [body as T];
}

function reply(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function fail(res: http.ServerResponse, status: number, code: string, message: string, path?: string) {
  reply(res, status, { error: { code, message, ...(path !== undefined ? { path } : {}) } });
}

async function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export interface HttpIntake {
  port: number;
  close(): Promise<void>;
}

/**
 * Localhost JSON intake: `POST /metrics` and `POST /events` (seed 002's job events), validated with zod and
 * answered with the same `{error:{code,message,path}}` shape as the Pulsewire API.
 */
export async function startHttpIntake(
  buffer: IntakeBuffer,
  log: Logger,
  options: { host: string; port: number },
  now: () => number = Date.now,
): Promise<HttpIntake> {
  const server = nodeHttp().createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://intake');
    if (req.method === 'GET' && url.pathname === '/health') return reply(res, 200, { ok: true });
    if (url.pathname !== '/metrics' && url.pathname !== '/events') {
      return fail(res, 404, 'not_found', 'use POST /metrics or POST /events');
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return fail(res, 405, 'method_not_allowed', `${url.pathname} accepts POST`);
    }
    const raw = await readBody(req);
    if (!raw) return fail(res, 413, 'payload_too_large', `bodies are limited to ${MAX_BODY_BYTES} bytes`);
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      return fail(res, 400, 'invalid_json', 'the body is not valid JSON');
    }
    const schema = url.pathname === '/metrics' ? MetricsBody : EventsBody;
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      // The union reports each branch; the deepest issue names the field that is actually wrong.
      const issue = [...parsed.error.issues].sort((a, b) => b.path.length - a.path.length)[0];
      const path = issue?.path.join('.') ?? '';
      return fail(res, 422, 'validation_failed', issue?.message ?? 'invalid body', path);
    }
    const at = now();
    if (url.pathname === '/metrics') {
      const metrics = list(parsed.data as z.infer<typeof MetricsBody>, 'metrics') as z.infer<typeof MetricInput>[];
      let accepted = 0;
      for (const m of metrics) {
        if (buffer.observe({ name: m.name, kind: m.kind, value: m.value, ...(m.labels ? { labels: m.labels } : {}) }))
          accepted++;
      }
      return reply(res, 202, { accepted });
    }
    const events = list(parsed.data as z.infer<typeof EventsBody>, 'events') as z.infer<typeof EventInput>[];
    const checked = events.map((event) => AppEvent.safeParse({ ...event, ts: event.ts ?? at }));
    const bad = checked.findIndex((result) => !result.success);
    if (bad >= 0) return fail(res, 422, 'validation_failed', 'ts must be epoch milliseconds (2020–2100)', `${bad}.ts`);
    for (const result of checked) if (result.success) buffer.event(result.data);
    return reply(res, 202, { accepted: checked.length });
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  log.debug('http intake listening', { host: options.host, port: options.port });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
