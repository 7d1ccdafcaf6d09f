import http from 'node:http';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import {
  ApiErrorBody,
  CONTROL_BATCH_PREFIX,
  CONTROL_CLOSE,
  CONTROL_MAX_BATCH_BYTES,
  CONTROL_MAX_BATCHES_IN_FLIGHT,
  CONTROL_PATH,
  ControlAgentMessage,
  type ControlServerMessage,
  ENROLL_PATH,
  EnrollRequest,
  generateHostKeyPair,
  HEADER_BATCH,
  type HeaderSource,
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

/** How a batch reached the stand-in: an HTTP push, or a `batch` message on the control socket. */
export type BatchVia = 'http' | 'control';

/**
 * A stand-in for the Worker's ingest endpoints, strict about the contract: every batch, pushed over HTTP or sent
 * on the control socket, must verify with the host's public key, decompress (HTTP) or fit the socket's size, match
 * its headers and parse with the protocol schemas. Anything else is recorded in `violations` (tests assert it
 * stays empty) and answered 4xx (a `nack` on the socket). Both ways share one store, as the Worker and the tenant
 * object do: a batch that arrives twice, either way, is stored once and answered `duplicate`.
 */
export async function startIngestServer() {
  const keys = await generateHostKeyPair();
  const hostId = 'h_test';
  const received: IngestBatch[] = [];
  /** Every verified batch, in arrival order: how it came, what it was answered, and whether it was a duplicate. */
  const requests: { batchId: string; seq: number; status: number; at: number; via: BatchVia; duplicate: boolean }[] =
    [];
  let clock = () => Date.now();
  const violations: string[] = [];
  const enrollments: EnrollRequest[] = [];
  const stored = new Set<string>();
  /** seq → batch id of every stored batch, for the 409 `replayed_seq` rule. */
  const storedSeqs = new Map<number, string>();
  const script: ScriptedReply[] = [];
  let answer: ((batch: IngestBatch, via: BatchVia) => ScriptedReply | undefined) | undefined;
  let cadence: IngestResponse['cadence'] = { collectIntervalMs: 10_000, pushIntervalMs: 30_000, live: false };
  let onBatch: ((batch: IngestBatch) => void) | undefined;
  let onRequest: (() => void) | undefined;

  /**
   * One batch, however it came: verified, parsed, checked against its headers, then answered as scripted or as
   * the Worker would (200, 409 `replayed_seq`, duplicate). The answer is the HTTP one; the socket turns it into
   * an `ack` or `nack`.
   */
  async function ingest(headers: HeaderSource, raw: Uint8Array<ArrayBuffer>, via: BatchVia): Promise<ScriptedReply> {
    const refuse = (status: number, code: string, message: string): ScriptedReply => {
      violations.push(`${via} ${code}: ${message}`);
      return { status, body: { error: { code, message } } };
    };
    const verified = await verifyIngestSignature({ headers, body: raw, publicKey: keys.publicKey, now: clock() });
    if (!verified.ok) return refuse(401, 'bad_signature', JSON.stringify(verified));
    let json: unknown;
    try {
      json = JSON.parse((via === 'http' ? gunzipSync(raw) : Buffer.from(raw)).toString('utf8'));
    } catch (error) {
      return refuse(400, 'bad_request', `body: ${String(error)}`);
    }
    const batch = IngestBatch.safeParse(json);
    if (!batch.success) return refuse(422, 'validation_failed', batch.error.message);
    if (
      batch.data.batch_id !== verified.batchId ||
      batch.data.host_id !== verified.hostId ||
      batch.data.seq !== verified.seq
    ) {
      return refuse(400, 'bad_request', 'headers do not match the body');
    }
    const scripted = script.shift() ?? answer?.(batch.data, via);
    const duplicate = stored.has(batch.data.batch_id);
    // As the Worker: a stored seq under another batch id is a 409 naming the highest seq stored.
    const replayed = !scripted && !duplicate && storedSeqs.has(batch.data.seq);
    const status = scripted?.status ?? (replayed ? 409 : 200);
    requests.push({
      batchId: batch.data.batch_id,
      seq: batch.data.seq,
      status,
      at: clock(),
      via,
      duplicate: status === 200 && duplicate,
    });
    onRequest?.();
    if (scripted) return { ...scripted, body: scripted.body ?? {} };
    if (replayed) {
      const lastSeq = Math.max(...storedSeqs.keys());
      return {
        status: 409,
        body: { error: { code: 'replayed_seq', message: `seq ${batch.data.seq} already used`, lastSeq } },
      };
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
    return { status: 200, body: { accepted, duplicate, cadence } satisfies IngestResponse };
  }

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
    if (req.headers['content-encoding'] !== 'gzip') return refuse(400, 'bad_request', 'body not gzip');
    const answered = await ingest(req.headers, raw, 'http');
    send(answered.status, answered.body, answered.headers);
  });
  // The control socket, as the Worker and the tenant object serve it: signed upgrade, cadence on accept and
  // on every change, keep-alives answered, stored batches checked as pushes are and answered `ack` / `nack`,
  // anything else closes it.
  const control = {
    /** Upgrade attempts, in order, with the status answered (101: accepted). */
    attempts: [] as { status: number; at: number }[],
    /** Statuses to answer the next upgrades with instead of accepting them (e.g. 503). */
    refuse: [] as number[],
    /** Close codes the agent sent, in order. */
    closedByAgent: [] as number[],
    /** Keep-alives received. */
    pings: 0,
    /** `batch` messages received (answered or not). */
    batches: 0,
    /**
     * Answer batches as the object does (false), or never answer them: `stored` stores each batch first (its
     * answer is lost), `discarded` does not even look at it (lost on the way).
     */
    withhold: false as false | 'stored' | 'discarded',
    /** False: a server from before batches on the socket, which closes it (1003) on the first one. */
    takesBatches: true,
    /** The most batches one socket had unanswered at once. */
    maxInFlight: 0,
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
    // A batch of CONTROL_MAX_BATCH_BYTES, JSON-escaped inside the message, with its headers.
    const reader = new FrameReader({ maxBytes: 2 * CONTROL_MAX_BATCH_BYTES + 4096, masked: true });
    let inFlight = 0;
    const onBatch = async (message: ControlAgentMessage) => {
      control.batches++;
      if (++inFlight > CONTROL_MAX_BATCHES_IN_FLIGHT) {
        violations.push(`control: more than ${CONTROL_MAX_BATCHES_IN_FLIGHT} batches in flight`);
        socket.end(encodeFrame(OPCODE.close, closePayload(CONTROL_CLOSE.tooManyInFlight, 'too many'), false));
        return;
      }
      control.maxInFlight = Math.max(control.maxInFlight, inFlight);
      const batchId = message.headers[HEADER_BATCH];
      const raw = new Uint8Array(Buffer.from(message.body, 'utf8'));
      if (control.withhold === 'discarded') return;
      if (raw.byteLength > CONTROL_MAX_BATCH_BYTES) violations.push(`control: a batch of ${raw.byteLength} bytes`);
      const answered =
        raw.byteLength > CONTROL_MAX_BATCH_BYTES
          ? { status: 413, body: { error: { code: 'payload_too_large', message: 'over the socket size' } } }
          : await ingest(message.headers, raw, 'control');
      if (control.withhold === 'stored' || socket.destroyed) return;
      inFlight--;
      if (answered.status >= 200 && answered.status < 300) {
        const { accepted, duplicate } = answered.body as IngestResponse;
        return sendControl(socket, { type: 'ack', batch_id: batchId, accepted, duplicate });
      }
      // The HTTP answer's `error` object, as a nack carries it, facts beside code and message included (409's
      // `lastSeq`); the request id is HTTP's alone.
      const parsed = ApiErrorBody.safeParse(answered.body);
      const { requestId: _, ...error } = parsed.success
        ? ((answered.body as ApiErrorBody).error as ApiErrorBody['error'] & Record<string, unknown>)
        : { code: `http_${answered.status}`, message: JSON.stringify(answered.body ?? '').slice(0, 200) };
      sendControl(socket, { type: 'nack', batch_id: batchId, status: answered.status, error });
    };
    socket.on('data', (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) {
        const text = frame.payload.toString('utf8');
        const batch =
          frame.opcode === OPCODE.text && text !== KEEPALIVE_PING
            ? ControlAgentMessage.safeParse(parseJson(text))
            : undefined;
        if (!frame.fin) {
          violations.push('control: a fragmented message (the agent sends whole frames)');
        } else if (batch?.success && control.takesBatches) {
          void onBatch(batch.data);
        } else if (frame.opcode === OPCODE.close) {
          control.closedByAgent.push(readClose(frame.payload).code);
          socket.end(encodeFrame(OPCODE.close, closePayload(1000, ''), false));
        } else if (frame.opcode === OPCODE.text && text === KEEPALIVE_PING) {
          control.pings++;
          socket.write(encodeFrame(OPCODE.text, Buffer.from(KEEPALIVE_PONG), false));
        } else {
          // A valid batch to a server that takes none is the agent's bet, not a violation.
          if (!batch?.success) violations.push(`control: unexpected frame ${frame.opcode} ${text.slice(0, 100)}`);
          socket.end(encodeFrame(OPCODE.close, closePayload(CONTROL_CLOSE.unexpected, 'unexpected'), false));
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
    /** Replies used, in order, for the next batches (after verification), either way, instead of 200. */
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
    /** Closes every open control socket with a close frame, as the object does (e.g. 4012: reconnect). */
    closeControl(code: number, reason = '') {
      for (const socket of control.sockets) socket.end(encodeFrame(OPCODE.close, closePayload(code, reason), false));
    },
    /** Cuts every open control socket without a close frame (a network drop). */
    dropControl() {
      for (const socket of control.sockets) socket.destroy();
    },
    /** Decides the reply to each verified batch not covered by `script` (undefined: answer as the Worker would). */
    answer(decide: (batch: IngestBatch, via: BatchVia) => ScriptedReply | undefined) {
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

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Polls `check` (bounded) until it is true; for waiting on another process or socket, not for timing. */
export async function until(check: () => boolean | Promise<boolean>, what: string, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
