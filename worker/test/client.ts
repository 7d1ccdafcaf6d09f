import { OutboxList } from '@pulsewire/protocol';
import type { Env } from '../src/env.ts';
import { callWorker } from './support.ts';

/**
 * A browser-like API client for tests: keeps cookies between calls, sends JSON, and comes from
 * its own IP so rate limits of one test do not spill into another.
 */
export class TestClient {
  readonly env: Env;
  readonly ip: string;
  cookies = new Map<string, string>();
  constructor(env: Env, ip = `10.${rand()}.${rand()}.${rand()}`) {
    this.env = env;
    this.ip = ip;
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await callWorker(this.env, path, {
      method,
      headers: {
        'CF-Connecting-IP': this.ip,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(cookie ? { Cookie: cookie } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (!name) continue;
      const expired = attributes.some((a) => /max-age=0/i.test(a) || /expires=thu, 01 jan 1970/i.test(a));
      if (expired || value.join('=') === '') this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value.join('='));
    }
    return res;
  }

  get = (path: string) => this.request('GET', path);
  post = (path: string, body?: unknown) => this.request('POST', path, body ?? {});
  patch = (path: string, body: unknown) => this.request('PATCH', path, body);
  delete = (path: string) => this.request('DELETE', path);
}

function rand(): number {
  return Math.floor(Math.random() * 250) + 1;
}

export const uniqueEmail = (label = 'user') => `${label}-${crypto.randomUUID().slice(0, 8)}@example.com`;

/** Every outbox mail to `to`, newest first, each with the token of the first link in it. */
export async function mailsTo(env: Env, to: string) {
  const res = await new TestClient(env).get('/api/v1/dev/outbox');
  const { messages } = OutboxList.parse(await res.json());
  return messages
    .filter((m) => m.to === to)
    .map((message) => ({ ...message, token: /[?&]token=([\w-]+)/.exec(message.text)?.[1] }));
}

/** The newest outbox mail to `to`, and the token of the first link in it. */
export async function lastMailTo(env: Env, to: string) {
  const [message] = await mailsTo(env, to);
  if (!message) throw new Error(`no mail to ${to}`);
  return message;
}

/** Signs up, verifies through the outbox link (which signs in), and returns the signed-in client. */
export async function signedUpClient(env: Env, label = 'owner', password = 'correct horse battery staple') {
  const client = new TestClient(env);
  const email = uniqueEmail(label);
  const signup = await client.post('/api/v1/auth/signup', { email, password, name: label });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${await signup.text()}`);
  const { token } = await lastMailTo(env, email);
  const verify = await client.post('/api/v1/auth/verify', { token });
  if (verify.status !== 200) throw new Error(`verify failed: ${verify.status} ${await verify.text()}`);
  return { client, email, password };
}
