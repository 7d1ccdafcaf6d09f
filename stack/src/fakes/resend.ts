import http from 'node:http';
import { z } from 'zod';

/** What Resend's `POST /emails` accepts (the parts we send); anything else is refused like Resend would. */
const SendEmailBody = z.object({
  from: z.string().min(3),
  to: z.array(z.email()).min(1).max(50),
  subject: z.string().min(1),
  html: z.string().min(1),
  text: z.string().min(1),
});

export interface ReceivedEmail {
  id: string;
  apiKey: string;
  body: z.infer<typeof SendEmailBody>;
}

export interface FakeResend {
  url: string;
  received: ReceivedEmail[];
  stop(): Promise<void>;
}

/**
 * A stand-in for api.resend.com that checks what it receives: bearer key, JSON content type and
 * body shape. Mail to an address starting with `bounce` gets a 500, to test delivery failures.
 * `GET /_received` lists what arrived, for tests that run where this process's memory is out of
 * reach (inside workerd).
 */
export async function startFakeResend(): Promise<FakeResend> {
  const received: ReceivedEmail[] = [];
  const server = http.createServer(async (req, res) => {
    const reply = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'GET' && req.url === '/_received') return reply(200, { emails: received });
    if (req.method !== 'POST' || req.url !== '/emails') {
      return reply(404, { statusCode: 404, name: 'not_found', message: 'route not found' });
    }
    const apiKey = /^Bearer (re_\w+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!apiKey) return reply(401, { statusCode: 401, name: 'missing_api_key', message: 'Missing API key' });
    if (!req.headers['content-type']?.startsWith('application/json')) {
      return reply(415, { statusCode: 415, name: 'invalid_content_type', message: 'expected JSON' });
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let json: unknown;
    try {
      json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return reply(400, { statusCode: 400, name: 'invalid_json', message: 'body is not JSON' });
    }
    const parsed = SendEmailBody.safeParse(json);
    if (!parsed.success) {
      return reply(422, { statusCode: 422, name: 'validation_error', message: parsed.error.issues[0]?.message });
    }
    if (parsed.data.to.some((to) => to.startsWith('bounce'))) {
      return reply(500, { statusCode: 500, name: 'application_error', message: 'simulated outage' });
    }
    const id = crypto.randomUUID();
    received.push({ id, apiKey, body: parsed.data });
    return reply(200, { id });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
