import * as z from 'zod';
import { Cadence } from './ingest.ts';

/**
 * The agent's control socket (issue #13, item 1): a WebSocket from each running agent to its tenant object, so
 * that an idle agent hears "go live" the moment a dashboard starts watching its host instead of in the answer to
 * its next push (up to 30 s later). The upgrade is signed like an ingest batch (signing.ts) over an empty body,
 * with a batch id of the form `control-<uuid>`; the push answer's cadence stays the fallback.
 *
 * Server → agent: `cadence` messages only (on accept, then on every change). Agent → server: the keep-alive
 * `{"type":"ping"}` (stream.ts' KEEPALIVE_PING), which the runtime answers with `{"type":"pong"}` without waking
 * the object. Anything else from an agent closes the socket with 1003.
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
  /** The agent sent something other than a keep-alive. */
  unexpected: 1003,
} as const;

/** "Collect and push at this cadence from now on": live (1 s) while a dashboard watches the host, else idle. */
export const ControlCadence = z.object({
  type: z.literal('cadence'),
  cadence: Cadence,
});
export type ControlCadence = z.infer<typeof ControlCadence>;

export const ControlServerMessage = z.discriminatedUnion('type', [ControlCadence]);
export type ControlServerMessage = z.infer<typeof ControlServerMessage>;
