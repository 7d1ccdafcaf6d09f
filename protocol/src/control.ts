import * as z from 'zod';
import { Cadence } from './ingest.ts';
import { HEADER_BATCH, HEADER_HOST, HEADER_SEQ, HEADER_SIGNATURE, HEADER_TIMESTAMP } from './signing.ts';

/**
 * The agent's control socket (issue #13, item 1): a WebSocket from each running agent to its tenant object, so
 * that an idle agent hears "go live" the moment a dashboard starts watching its host instead of in the answer to
 * its next push (up to 30 s later). The upgrade is signed like an ingest batch (signing.ts) over an empty body,
 * with a batch id of the form `control-<uuid>`; the push answer's cadence stays the fallback.
 *
 * Server → agent: `cadence` messages (on accept, then on every change), and `ack` / `nack` for stored batches.
 * Agent → server: the keep-alive `{"type":"ping"}` (stream.ts' KEEPALIVE_PING), which the runtime answers with
 * `{"type":"pong"}` without waking the object, and stored batches (`batch`, below). Anything else from an agent
 * closes the socket with 1003.
 *
 * Stored batches over the socket (design departure in decisions.md, "Batches over the control socket"): the
 * same signed batch an HTTP push carries, as one text message, answered by `ack` once it is committed or by
 * `nack` with the status and error code the HTTP push would have answered. The agent keeps the batch spooled
 * until one of them arrives, and sends it over HTTP when the socket is down or the answer does not come.
 */
export const CONTROL_PATH = '/api/v1/agents/control';

/** Prefix of the signed batch id of a control upgrade (a push's is a UUID, so the two never collide). */
export const CONTROL_BATCH_PREFIX = 'control-';

/** Close codes the object uses on a control socket. */
export const CONTROL_CLOSE = {
  /** Another control socket of the same host connected: only the newest is kept. */
  replaced: 4009,
  /** The host was revoked or deleted: the agent learns why from its next push (403 host_revoked). */
  revoked: 4003,
  /** The agent sent something that is neither a keep-alive nor a batch. */
  unexpected: 1003,
  /** The agent sent more batches than CONTROL_MAX_BATCHES_IN_FLIGHT before their answers. */
  tooManyInFlight: 1008,
  /** The socket predates what the object needs to verify batches on it: connect again. */
  reconnect: 4012,
} as const;

/**
 * Batches an agent may have sent on the socket and not yet had answered. The object stores a tenant's batches
 * together (one statement per commit), so pipelining is what lets a backlog drain fast after an outage.
 */
export const CONTROL_MAX_BATCHES_IN_FLIGHT = 32;

/** A batch larger than this (its JSON, as UTF-8) goes over HTTP, gzip'd. */
export const CONTROL_MAX_BATCH_BYTES = 512 * 1024;

/** How long the agent waits for a batch's `ack` or `nack` before sending it over HTTP instead. */
export const CONTROL_BATCH_ANSWER_TIMEOUT_MS = 15_000;

/** The signed headers of a push, as the socket message carries them. */
export const ControlBatchHeaders = z.object({
  [HEADER_HOST]: z.string().max(64),
  [HEADER_TIMESTAMP]: z.string().max(20),
  [HEADER_BATCH]: z.string().max(64),
  [HEADER_SIGNATURE]: z.string().max(128),
  [HEADER_SEQ]: z.string().max(20).optional(),
});
export type ControlBatchHeaders = z.infer<typeof ControlBatchHeaders>;

/**
 * Agent → server: one stored batch. `headers` are exactly the ones an HTTP push carries (signing.ts), with the
 * signature over the UTF-8 bytes of `body`, the `IngestBatch` JSON, uncompressed (the socket's transport may
 * compress). The object checks it as the Worker checks a push: signature, clock window, schema, host and batch
 * ids, and stores it once (its batch id and seq are claimed as over HTTP, so a batch that went both ways is
 * stored once and answered `duplicate`).
 */
export const ControlBatch = z.object({
  type: z.literal('batch'),
  headers: ControlBatchHeaders,
  body: z.string().max(CONTROL_MAX_BATCH_BYTES),
});
export type ControlBatch = z.infer<typeof ControlBatch>;

export const ControlAgentMessage = z.discriminatedUnion('type', [ControlBatch]);
export type ControlAgentMessage = z.infer<typeof ControlAgentMessage>;

/** Server → agent: the batch is committed (or was already: `duplicate`), as the HTTP push's 200 says. */
export const ControlAck = z.object({
  type: z.literal('ack'),
  batch_id: z.string(),
  accepted: z.number().int().nonnegative(),
  duplicate: z.boolean(),
});
export type ControlAck = z.infer<typeof ControlAck>;

/**
 * Server → agent: the batch was not stored. `status` and `error` are exactly what the HTTP push would have been
 * answered (`error` as in `{"error":…}`, extra fields included: 409 `replayed_seq` carries `lastSeq`), so the
 * agent handles both alike: 401 `bad_signature` / `stale_timestamp`, 403 `host_revoked`, 409, 422
 * `validation_failed`…, and 503 when the database could not be reached (send it again later, either way).
 */
export const ControlNack = z.object({
  type: z.literal('nack'),
  batch_id: z.string(),
  status: z.number().int().min(400).max(599),
  error: z.looseObject({
    code: z.string(),
    message: z.string(),
    path: z.string().optional(),
  }),
});
export type ControlNack = z.infer<typeof ControlNack>;

/** "Collect and push at this cadence from now on": live (1 s) while a dashboard watches the host, else idle. */
export const ControlCadence = z.object({
  type: z.literal('cadence'),
  cadence: Cadence,
});
export type ControlCadence = z.infer<typeof ControlCadence>;

export const ControlServerMessage = z.discriminatedUnion('type', [ControlCadence, ControlAck, ControlNack]);
export type ControlServerMessage = z.infer<typeof ControlServerMessage>;
