import { OutboxList } from '@pulsewire/protocol';

/** A cookie-keeping client for the API, sending Origin like the dashboard does (CSRF). */
export class ApiSession {
  readonly #base: string;
  #cookies = new Map<string, string>();
  constructor(base: string) {
    this.#base = base;
  }

  async call(method: string, route: string, body?: unknown): Promise<Response> {
    const res = await fetch(`${this.#base}/api/v1${route}`, {
      method,
      headers: {
        Origin: this.#base,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(this.#cookies.size ? { Cookie: [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair?.indexOf('=') ?? -1;
      if (pair && at > 0) this.#cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1));
    }
    return res;
  }

  async expect(method: string, route: string, body: unknown, status: number): Promise<unknown> {
    const res = await this.call(method, route, body);
    const text = await res.text();
    if (res.status !== status) throw new Error(`${method} ${route} answered ${res.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  }
}

/** Local mode: follows the verification link mailed to `email` (read from the dev outbox). */
export async function verifyFromOutbox(api: ApiSession, email: string): Promise<void> {
  const { messages } = OutboxList.parse(await api.expect('GET', '/dev/outbox', undefined, 200));
  const mail = messages.findLast((m) => m.to === email && /[?&]token=/.test(m.text));
  const token = mail && /[?&]token=([\w-]+)/.exec(mail.text)?.[1];
  if (!token) throw new Error(`no verification mail for ${email} in the dev outbox`);
  await api.expect('POST', '/auth/verify', { token }, 200);
}
