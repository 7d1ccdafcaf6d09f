import { gzipSync } from 'node:zlib';
import {
  ApiErrorBody,
  EnrollResponse,
  generateHostKeyPair,
  type IngestBatch,
  importPrivateKey,
  OutboxList,
  type Sample,
  signIngestRequest,
} from '@pulsewire/protocol';
import { ApiSession, verifyFromOutbox } from '@pulsewire/stack';
import { expect } from 'vitest';
import { until } from './support.ts';

/**
 * What the issue #11 retries against the running local stack share: a scripted agent (signed batches
 * built by hand, so a test can send what a real agent never would), accounts on fresh client addresses,
 * the dev outbox, and a live-stream client.
 */

/** One mail in the dev outbox. */
export type Mail = ReturnType<typeof OutboxList.parse>['messages'][number];

export const PASSWORD = 'correct horse battery staple';

export const FACTS = {
  os: 'Debian GNU/Linux 12',
  kernel: '6.1.0',
  arch: 'x64',
  cpuModel: 'Test CPU',
  cores: 2,
  memTotal: 8e9,
  bootTime: Date.now() - 3_600_000,
  hostname: 'probe',
};

export const sample = (ts: number, cpu = 10): Sample => ({
  ts,
  cpu: { total: cpu, user: cpu, system: 0, iowait: 0, steal: 0, perCore: [cpu, cpu] },
});

let addresses = 0;
/**
 * A client address no other request of this test run has used (TEST-NET-2, RFC 5737). Requests made
 * with `CF-Connecting-IP` count against that address's limits, not against 127.0.0.1's: wrangler dev
 * sets the header only when a client did not, as Cloudflare's edge sets it in production.
 */
export function freshIp(): string {
  addresses++;
  return `198.51.${100 + Math.floor(addresses / 250)}.${(addresses % 250) + 1}`;
}

export function enroll(
  base: string,
  key: string | null,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${base}/api/v1/agents/enroll`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...headers,
      ...(key ? { Authorization: `Bearer ${key}` } : {}),
    },
    body: JSON.stringify(body),
  });
}

/** An agent scripted by the test: its own key pair and seq, batches signed like the real agent signs them. */
export class ScriptedAgent {
  seq = 0;
  readonly base: string;
  readonly hostId: string;
  readonly privateKey: string;
  /** Sent as `CF-Connecting-IP` when set. */
  readonly ip: string | undefined;
  constructor(base: string, hostId: string, privateKey: string, ip?: string) {
    this.base = base;
    this.hostId = hostId;
    this.privateKey = privateKey;
    this.ip = ip;
  }

  static async enroll(base: string, ingestKey: string, machineId = crypto.randomUUID()): Promise<ScriptedAgent> {
    const keys = await generateHostKeyPair();
    const res = await enroll(base, ingestKey, {
      publicKey: keys.publicKey,
      machineId,
      hostname: `probe-${machineId.slice(0, 4)}`,
      facts: FACTS,
      agentVersion: '0.1.0',
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return new ScriptedAgent(base, EnrollResponse.parse(await res.json()).hostId, keys.privateKey);
  }

  /** A host id the server never enrolled, signing with a key it never saw. */
  static async stranger(base: string, ip?: string): Promise<ScriptedAgent> {
    const keys = await generateHostKeyPair();
    return new ScriptedAgent(base, crypto.randomUUID(), keys.privateKey, ip);
  }

  batch(samples: Sample[], extra: Partial<IngestBatch> = {}): IngestBatch {
    return {
      batch_id: crypto.randomUUID(),
      seq: ++this.seq,
      host_id: this.hostId,
      sent_at: Date.now(),
      samples,
      ...extra,
    };
  }

  async push(batch: IngestBatch | Record<string, unknown>, encoding = 'gzip'): Promise<Response> {
    const body = new Uint8Array(gzipSync(JSON.stringify(batch)));
    const headers = await signIngestRequest({
      privateKey: await importPrivateKey(this.privateKey),
      hostId: this.hostId,
      batchId: String(batch.batch_id),
      body,
    });
    return fetch(`${this.base}/api/v1/ingest`, {
      method: 'POST',
      headers: {
        ...headers,
        'Content-Type': 'application/json',
        'Content-Encoding': encoding,
        ...(this.ip ? { 'CF-Connecting-IP': this.ip } : {}),
      },
      body,
    });
  }
}

/** Asserts the typed error: this status and this `error.code` (so never a 500 in disguise). */
export async function expectError(res: Response, status: number, code: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(ApiErrorBody.parse(JSON.parse(text)).error.code, text).toBe(code);
}

export async function errorCode(res: Response): Promise<string> {
  return ApiErrorBody.parse(await res.json()).error.code;
}

/** A verified account with its organisation, signed in from its own client address. */
export async function signedUp(
  base: string,
  label: string,
): Promise<{ api: ApiSession; email: string; ip: string; userId: string }> {
  const ip = freshIp();
  const api = new ApiSession(base, { headers: { 'CF-Connecting-IP': ip } });
  const email = `${label}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  await api.expect('POST', '/auth/signup', { email, password: PASSWORD, name: label }, 201);
  await verifyFromOutbox(api, email);
  const me = (await api.expect('GET', '/me', undefined, 200)) as { user: { id: string } };
  return { api, email, ip, userId: me.user.id };
}

/** The dev outbox's mails to `to`, newest first. */
export async function mailsTo(base: string, to: string): Promise<Mail[]> {
  const res = await fetch(`${base}/api/v1/dev/outbox`);
  expect(res.status).toBe(200);
  return OutboxList.parse(await res.json()).messages.filter((m) => m.to === to);
}

/** Waits for a mail to `to` that `match` accepts (the Worker mails after answering); returns it. */
export async function mailTo(base: string, to: string, match: (mail: Mail) => boolean = () => true): Promise<Mail> {
  let found: Mail | undefined;
  await until(`a mail to ${to}`, async () => {
    found = (await mailsTo(base, to)).find(match);
    return found !== undefined;
  });
  return found as Mail;
}

/** The token of a mailed link (`…?token=…`). */
export function tokenOf(mail: Mail): string {
  const token = /[?&]token=([\w-]+)/.exec(mail.text)?.[1];
  if (!token) throw new Error(`no link with a token in "${mail.subject}"`);
  return token;
}

/** A live-stream WebSocket as a script opens it: what it received, and how it closed. */
export interface StreamClient {
  ws: WebSocket;
  messages: { type: string; code?: string; [key: string]: unknown }[];
  closed: Promise<{ code: number; reason: string }>;
  /** Waits for a message of this type (already received or still to come). */
  message(type: string): Promise<{ type: string; [key: string]: unknown }>;
}

/** Opens `/api/v1/stream` with these headers (a session cookie and Origin, or a read key) and waits until it is open. */
export async function openStream(base: string, headers: Record<string, string>): Promise<StreamClient> {
  const url = new URL('/api/v1/stream', base);
  url.protocol = 'ws:';
  // Node's WebSocket (undici) takes headers, as a script's client would.
  const ws = new WebSocket(url, { headers } as never);
  const messages: StreamClient['messages'] = [];
  ws.addEventListener('message', (event) => messages.push(JSON.parse(String(event.data))));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason })),
  );
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', () => reject(new Error('the stream did not open')), { once: true });
  });
  return {
    ws,
    messages,
    closed,
    async message(type) {
      await until(`a "${type}" message on the stream`, () => messages.some((m) => m.type === type), 15_000, 25);
      return messages.find((m) => m.type === type) as StreamClient['messages'][number];
    },
  };
}
