import http from 'node:http';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import {
  CONTROL_BATCH_PREFIX,
  CONTROL_PATH,
  type ControlServerMessage,
  ENROLL_PATH,
  EnrollRequest,
  generateHostKeyPair,
  INGEST_PATH,
  IngestBatch,
  type IngestResponse,
  KEEPALIVE_PING,
  KEEPALIVE_PONG,
  verifyIngestSignature,
} from '@pulsewire/protocol';
import { acceptKey, closePayload, encodeFrame, FrameReader, OPCODE, readClose } from '../transport/websocket.ts';

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
  // The control socket, as the Worker and the tenant object serve it: signed upgrade, cadence on accept and
  // on every change, keep-alives answered, anything else closes it.
  const control = {
    /** Upgrade attempts, in order, with the status answered (101: accepted). */
    attempts: [] as { status: number; at: number }[],
    /** Statuses to answer the next upgrades with instead of accepting them (e.g. 503). */
    refuse: [] as number[],
    /** Close codes the agent sent, in order. */
    closedByAgent: [] as number[],
    /** Keep-alives received. */
    pings: 0,
    sockets: new Set<Socket>(),
  };
  const sendControl = (socket: Socket, message: ControlServerMessage) =>
    socket.write(encodeFrame(OPCODE.text, Buffer.from(JSON.stringify(message)), false));
  const answerRaw = (socket: Socket, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    socket.end(
      `HTTP/1.1 ${status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n` +
        `connection: close\r\n\r\n${text}`,
    );
  };
  server.on('upgrade', async (req: http.IncomingMessage, socket: Socket) => {
    socket.on('error', () => undefined);
    const refuse = (status: number, code: string, message: string) => {
      control.attempts.push({ status, at: Date.now() });
      answerRaw(socket, status, { error: { code, message } });
    };
    if (req.url !== CONTROL_PATH) {
      violations.push(`upgrade to ${req.url}`);
      return refuse(404, 'not_found', `${req.url}`);
    }
    const verified = await verifyIngestSignature({
      headers: req.headers,
      body: new Uint8Array(0),
      publicKey: keys.publicKey,
      now: clock(),
    });
    if (!verified.ok || !verified.batchId.startsWith(CONTROL_BATCH_PREFIX)) {
      violations.push(`control: ${JSON.stringify(verified)}`);
      return refuse(401, 'bad_signature', 'Signature does not match');
    }
    const scripted = control.refuse.shift();
    if (scripted) return refuse(scripted, 'service_unavailable', 'scripted refusal');
    control.attempts.push({ status: 101, at: Date.now() });
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${await acceptKey(String(req.headers['sec-websocket-key']))}\r\n\r\n`,
    );
    control.sockets.add(socket);
    socket.once('close', () => control.sockets.delete(socket));
    sendControl(socket, { type: 'cadence', cadence });
    const reader = new FrameReader({ maxBytes: 64 * 1024, masked: true });
    socket.on('data', (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) {
        const text = frame.payload.toString('utf8');
        if (frame.opcode === OPCODE.close) {
          control.closedByAgent.push(readClose(frame.payload).code);
          socket.end(encodeFrame(OPCODE.close, closePayload(1000, ''), false));
        } else if (frame.opcode === OPCODE.text && text === KEEPALIVE_PING) {
          control.pings++;
          socket.write(encodeFrame(OPCODE.text, Buffer.from(KEEPALIVE_PONG), false));
        } else {
          violations.push(`control: unexpected frame ${frame.opcode} ${text.slice(0, 100)}`);
          socket.end(encodeFrame(OPCODE.close, closePayload(1003, 'unexpected'), false));
        }
      }
    });
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
    /** The cadence push answers carry from now on; `tell`: also sent at once on open control sockets. */
    setCadence(next: IngestResponse['cadence'], options: { tell?: boolean } = {}) {
      cadence = next;
      if (options.tell) for (const socket of control.sockets) sendControl(socket, { type: 'cadence', cadence: next });
    },
    control,
    /** Cuts every open control socket without a close frame (a network drop). */
    dropControl() {
      for (const socket of control.sockets) socket.destroy();
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
        for (const socket of control.sockets) socket.destroy();
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
