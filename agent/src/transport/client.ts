import type http from 'node:http';
import {
  ApiErrorBody,
  type ControlNack,
  type HostKey,
  IngestResponse,
  ReplayedSeqErrorBody,
  signIngestRequest,
} from '@pulsewire/protocol';
import { nodeHttp, nodeHttps } from '../builtins.ts';
import { monotonicMs } from '../clock.ts';
import { AGENT_VERSION } from '../version.ts';
import { parseRetryAfter } from './backoff.ts';
import { httpExchange } from './http.ts';

export interface ServerError {
  status: number;
  code: string;
  message: string;
  path?: string;
}

/**
 * What one delivery attempt came to, and so what the agent does next:
 * - delivered: forget the batch (a duplicate was already stored: also delivered);
 * - retry: the server or the network had a problem; try again after a backoff (or Retry-After);
 * - rejected: the server will never accept these bytes (400/409/413/415/422): drop the batch, log the code;
 * - replayed: the server stored this seq from another batch and names its last seq (409 `replayed_seq`): the
 *   counter went back (restored or wiped state folder); renumber the batch past `lastSeq` and send it again;
 * - unauthorized: our signature or clock is wrong (401), or something refused us with a 403 that is not the
 *   server's `host_revoked` (a proxy or WAF page); keep the batch, retry rarely, tell the user;
 * - revoked: the server says this host was revoked (403 with code `host_revoked`); the agent stops.
 */
export type SendOutcome =
  | { kind: 'delivered'; response: IngestResponse | undefined; latencyMs: number }
  | { kind: 'retry'; status?: number; code: string; message: string; retryAfterMs?: number }
  | ({ kind: 'replayed'; lastSeq: number } & ServerError)
  | ({ kind: 'rejected' | 'unauthorized' | 'revoked' } & ServerError);

/** The one answer that stops the agent for good: anything else, however it looks, is retried. */
export const REVOKED_CODE = 'host_revoked';

export interface IngestClientOptions {
  ingestUrl: string;
  hostId: string;
  privateKey: HostKey;
  /** Time allowed for one delivery: connecting, sending, and the whole answer. */
  requestTimeoutMs?: number;
  now?: () => number;
}

export interface OutgoingBatch {
  seq: number;
  batchId: string;
  /** gzip'd JSON, signed as is. */
  body: Uint8Array<ArrayBuffer>;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // Not JSON: a proxy's HTML error page, typically.
  }
}

function readError(status: number, json: unknown, text: string): ServerError {
  const parsed = ApiErrorBody.safeParse(json);
  if (parsed.success) {
    const { code, message, path } = parsed.data.error;
    return { status, code, message, ...(path ? { path } : {}) };
  }
  return { status, code: `http_${status}`, message: text.slice(0, 200) || `HTTP ${status}` };
}

/** What a refused push comes to, whichever way it travelled: not delivered. */
export type RefusalOutcome = Exclude<SendOutcome, { kind: 'delivered' }>;

/**
 * The one reading of a push's non-2xx answer (status and error body), for the HTTP answer and for the control
 * socket's `nack` alike (control.ts turns a nack back into the body HTTP would have carried): a batch is handled
 * the same whichever way it went.
 */
export function classifyRefusal(status: number, json: unknown, text: string, retryAfterMs?: number): RefusalOutcome {
  const error = readError(status, json, text);
  if (status === 401) return { kind: 'unauthorized', ...error };
  // Only the server's own verdict stops the agent: a proxy's or WAF's 403 in front of it must not stop a fleet.
  if (status === 403) return { kind: error.code === REVOKED_CODE ? 'revoked' : 'unauthorized', ...error };
  if (status === 409) {
    const replayed = ReplayedSeqErrorBody.safeParse(json);
    if (replayed.success) return { kind: 'replayed', lastSeq: replayed.data.error.lastSeq, ...error };
  }
  if (status === 400 || status === 409 || status === 413 || status === 415 || status === 422) {
    return { kind: 'rejected', ...error };
  }
  return { kind: 'retry', ...error, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}

/**
 * A control socket's `nack` read as the HTTP answer it stands for: its `error` is the HTTP body's `error` object,
 * facts included (`lastSeq` of a 409 `replayed_seq`), so the same classification applies.
 */
export function refusalFromNack(nack: ControlNack): RefusalOutcome {
  return classifyRefusal(nack.status, { error: nack.error }, nack.error.message);
}

/** Signed, gzip'd batch delivery over one keep-alive connection pool to the ingest origin. */
export class IngestClient {
  readonly #url: URL;
  readonly #pool: http.Agent;
  readonly #options: IngestClientOptions;

  constructor(options: IngestClientOptions) {
    this.#options = options;
    this.#url = new URL(options.ingestUrl);
    // Idle connections are closed after 60 s (the agent's `timeout` applies to free sockets), so the default
    // 30 s push reuses one connection and a host that went quiet holds none open.
    const pool = { keepAlive: true, maxSockets: 2, maxFreeSockets: 1, timeout: 60_000 };
    this.#pool = this.#url.protocol === 'https:' ? new (nodeHttps().Agent)(pool) : new (nodeHttp().Agent)(pool);
  }

  async send(batch: OutgoingBatch): Promise<SendOutcome> {
    const now = this.#options.now ?? Date.now;
    const signature = await signIngestRequest({
      privateKey: this.#options.privateKey,
      hostId: this.#options.hostId,
      batchId: batch.batchId,
      seq: batch.seq,
      body: batch.body,
      timestamp: now(),
    });
    const started = monotonicMs();
    let status: number;
    let text: string;
    let retryAfter: string | string[] | undefined;
    try {
      const response = await httpExchange(this.#url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'user-agent': `pulsewire-agent/${AGENT_VERSION}`,
          ...signature,
        },
        body: batch.body,
        agent: this.#pool,
        timeoutMs: this.#options.requestTimeoutMs ?? 30_000,
      });
      status = response.status;
      retryAfter = response.headers['retry-after'];
      text = response.text;
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'network_error';
      return { kind: 'retry', code, message: (error as Error).message };
    }
    const latencyMs = monotonicMs() - started;
    if (status >= 200 && status < 300) {
      let response: IngestResponse | undefined;
      try {
        const parsed = IngestResponse.safeParse(JSON.parse(text));
        if (parsed.success) response = parsed.data;
      } catch {
        // Stored is stored: a body we cannot read only costs us the cadence hint.
      }
      return { kind: 'delivered', response, latencyMs };
    }
    return classifyRefusal(status, parseJson(text), text, parseRetryAfter(retryAfter, now()));
  }

  async close(): Promise<void> {
    this.#pool.destroy();
  }
}
