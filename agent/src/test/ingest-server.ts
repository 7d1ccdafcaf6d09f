import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import {
  ENROLL_PATH,
  EnrollRequest,
  generateHostKeyPair,
  INGEST_PATH,
  IngestBatch,
  type IngestResponse,
  verifyIngestSignature,
} from '@pulsewire/protocol';

export interface ScriptedReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * A stand-in for the Worker's ingest endpoints (which do not exist yet), strict about the contract: every
 * request must verify with the host's public key, decompress, match its headers and parse with the protocol
 * schemas. Anything else is recorded in `violations` (tests assert it stays empty) and answered 4xx.
 */
export async function startIngestServer() {
  const keys = await generateHostKeyPair();
  const hostId = 'h_test';
  const received: IngestBatch[] = [];
  const requests: { batchId: string; seq: number; status: number; at: number }[] = [];
  let clock = () => Date.now();
  const violations: string[] = [];
  const enrollments: EnrollRequest[] = [];
  const stored = new Set<string>();
  /** seq → batch id of every stored batch, for the 409 `replayed_seq` rule. */
  const storedSeqs = new Map<number, string>();
  const script: ScriptedReply[] = [];
  let answer: ((batch: IngestBatch) => ScriptedReply | undefined) | undefined;
  let cadence: IngestResponse['cadence'] = { collectIntervalMs: 10_000, pushIntervalMs: 30_000, live: false };
  let onBatch: ((batch: IngestBatch) => void) | undefined;
  let onRequest: (() => void) | undefined;

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = new Uint8Array(Buffer.concat(chunks));
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    const refuse = (status: number, code: string, message: string) => {
      violations.push(`${code}: ${message}`);
      send(status, { error: { code, message } });
    };
    if (req.method === 'POST' && req.url === ENROLL_PATH) {
      if (req.headers.authorization !== 'Bearer pk_test_key')
        return send(401, { error: { code: 'invalid_api_key', message: 'unknown key' } });
      const parsed = EnrollRequest.safeParse(JSON.parse(Buffer.from(raw).toString('utf8')));
      if (!parsed.success) return refuse(422, 'validation_failed', parsed.error.message);
      enrollments.push(parsed.data);
      return send(201, { hostId, tenantId: 't_test', ingestUrl: `${url}${INGEST_PATH}`, cadence });
    }
    if (req.method !== 'POST' || req.url !== INGEST_PATH) return refuse(404, 'not_found', `${req.method} ${req.url}`);
    const verified = await verifyIngestSignature({
      headers: req.headers,
      body: raw,
      publicKey: keys.publicKey,
      now: clock(),
    });
    if (!verified.ok) return refuse(401, 'bad_signature', JSON.stringify(verified));
    if (req.headers['content-encoding'] !== 'gzip') return refuse(400, 'bad_request', 'body not gzip');
    const batch = IngestBatch.safeParse(JSON.parse(gunzipSync(raw).toString('utf8')));
    if (!batch.success) return refuse(422, 'validation_failed', batch.error.message);
    if (
      batch.data.batch_id !== verified.batchId ||
      batch.data.host_id !== verified.hostId ||
      batch.data.seq !== verified.seq
    ) {
      return refuse(400, 'bad_request', 'headers do not match the body');
    }
    const scripted = script.shift() ?? answer?.(batch.data);
    const duplicate = stored.has(batch.data.batch_id);
    // As the Worker: a stored seq under another batch id is a 409 naming the highest seq stored.
    const replayed = !scripted && !duplicate && storedSeqs.has(batch.data.seq);
    const status = scripted?.status ?? (replayed ? 409 : 200);
    requests.push({ batchId: batch.data.batch_id, seq: batch.data.seq, status, at: clock() });
    onRequest?.();
    if (scripted) return send(scripted.status, scripted.body ?? {}, scripted.headers);
    if (replayed) {
      const lastSeq = Math.max(...storedSeqs.keys());
      return send(409, { error: { code: 'replayed_seq', message: `seq ${batch.data.seq} already used`, lastSeq } });
    }
    if (!duplicate) {
      stored.add(batch.data.batch_id);
      storedSeqs.set(batch.data.seq, batch.data.batch_id);
      received.push(batch.data);
      onBatch?.(batch.data);
    }
    const accepted = duplicate
      ? 0
      : batch.data.samples.length + (batch.data.metrics?.length ?? 0) + (batch.data.events?.length ?? 0);
    send(200, { accepted, duplicate, cadence } satisfies IngestResponse);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    url,
    ingestUrl: `${url}${INGEST_PATH}`,
    hostId,
    keys,
    received,
    requests,
    violations,
    enrollments,
    /** Replies used, in order, for the next ingest requests (after verification), instead of 200. */
    script,
    /** Stamps `requests[].at` with the agent's (virtual) clock, and checks signature timestamps against it. */
    setClock(now: () => number) {
      clock = now;
    },
    setCadence(next: IngestResponse['cadence']) {
      cadence = next;
    },
    /** Decides the reply to each verified batch not covered by `script` (undefined: answer as the Worker would). */
    answer(decide: (batch: IngestBatch) => ScriptedReply | undefined) {
      answer = decide;
    },
    /** Called for every verified ingest request, before it is answered. */
    onRequest(listener: () => void) {
      onRequest = listener;
    },
    onBatch(listener: (batch: IngestBatch) => void) {
      onBatch = listener;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type IngestServer = Awaited<ReturnType<typeof startIngestServer>>;

/** Polls `check` (bounded) until it is true; for waiting on another process or socket, not for timing. */
export async function until(check: () => boolean | Promise<boolean>, what: string, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
