import { OutboxList } from '@pulsewire/protocol';

/** A cookie-keeping client for the API, sending Origin like the dashboard does (CSRF). */
export class ApiSession {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  #cookies = new Map<string, string>();
  /**
   * `headers` go with every request, e.g. `CF-Connecting-IP` to speak from another client address on
   * the local stack (in production Cloudflare sets that header itself; wrangler dev keeps a client's).
   */
  constructor(base: string, options: { headers?: Record<string, string> } = {}) {
    this.#base = base;
    this.#headers = options.headers ?? {};
  }

  /** The session's cookies as a `Cookie` header (e.g. for a WebSocket handshake); undefined when there are none. */
  cookieHeader(): string | undefined {
    return this.#cookies.size ? [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }

  async call(method: string, route: string, body?: unknown): Promise<Response> {
    const cookie = this.cookieHeader();
    const res = await fetch(`${this.#base}/api/v1${route}`, {
      method,
      headers: {
        ...this.#headers,
        Origin: this.#base,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(cookie ? { Cookie: cookie } : {}),
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

/**
 * Local mode: follows the verification link mailed to `email` (read from the dev outbox). The Worker
 * sends mail after answering, so the outbox is polled for a few seconds; a link that no longer works
 * (an older one, replaced by a newer link still on its way) is skipped.
 */
export async function verifyFromOutbox(api: ApiSession, email: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const tried = new Set<string>();
  for (;;) {
    const { messages } = OutboxList.parse(await api.expect('GET', '/dev/outbox', undefined, 200));
    const token = messages
      .filter((m) => m.to === email)
      .map((m) => /[?&]token=([\w-]+)/.exec(m.text)?.[1])
      .find((t): t is string => t !== undefined && !tried.has(t));
    if (token) {
      tried.add(token);
      const res = await api.call('POST', '/auth/verify', { token });
      const text = await res.text();
      if (res.status === 200) return;
      if (res.status !== 400) throw new Error(`POST /auth/verify answered ${res.status}: ${text.slice(0, 300)}`);
    } else if (Date.now() > deadline) {
      throw new Error(`no working verification link for ${email} in the dev outbox`);
    } else {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
