import { createRoute } from '@hono/zod-openapi';
import { ApiErrorBody, CONTROL_BATCH_PREFIX, HEADER_BATCH } from '@pulsewire/protocol';
import { db } from '../http/database.ts';
import { HttpError } from '../http/errors.ts';
import { router } from '../http/route.ts';
import { forwardUpgradeToTenant, requireWebSocketUpgrade } from '../http/websocket-upgrade.ts';
import { authenticateHost } from '../ingest/host-auth.ts';
import { authFailureKey, countingAuthFailures, refuseWhileBlocked } from '../limits/auth-failures.ts';
import { limitIngest } from '../limits/ingest-limit.ts';
import { clientIp } from '../limits/rate-limit.ts';
import { AGENT_HOST_HEADER, AGENT_KEY_HEADER, AGENT_ORIGIN_HEADER } from '../tenant/agent-control.ts';
import { TENANT_HEADER } from '../tenant/tenant-object.ts';
import { publicOrigin } from './auth.ts';

const errorContent = { 'application/json': { schema: ApiErrorBody } };
/** The signed body of an upgrade: none. */
const EMPTY_BODY = new Uint8Array(0);

const controlRoute = createRoute({
  method: 'get',
  path: '/agents/control', // CONTROL_PATH under /api/v1 (agent-control.test.ts checks they agree)
  tags: ['agents'],
  summary: "WebSocket upgrade to the agent's control socket (agents only)",
  description:
    'Signed like a push (`x-pulsewire-host`, `-timestamp`, `-batch`, `-signature`) over an empty body, with a ' +
    `batch id starting with \`${CONTROL_BATCH_PREFIX}\`. The tenant object accepts the socket and sends ` +
    '`{"type":"cadence","cadence":…}` at once and whenever a dashboard starts or stops watching the host live ' +
    '(`ControlServerMessage` in `@pulsewire/protocol`, control.ts). The agent sends `{"type":"ping"}` and stored ' +
    'batches (`ControlBatch`: the signed push headers and the uncompressed body), each answered `ack` after its ' +
    'commit or `nack` with the status and error the push would have had.',
  responses: {
    101: { description: "Switching protocols: the socket is connected to the host's tenant object" },
    401: { description: 'Bad or absent signature, unknown host, stale timestamp', content: errorContent },
    403: { description: 'Revoked or deleted host', content: errorContent },
    426: { description: 'Not a WebSocket upgrade', content: errorContent },
    429: { description: 'Too many attempts for this host, or too many failed signatures', content: errorContent },
  },
});

/**
 * Authenticates the upgrade with the host's signature, exactly as ingest does (`authenticateHost`: key, clock
 * window, revocation), then forwards it to the tenant object, which accepts the socket (hibernation API). Every
 * refusal is a JSON error before any upgrade.
 */
export const agentControlRoutes = router().openapi(controlRoute, async (c) => {
  const failures = authFailureKey('ingest', clientIp(c.req.raw));
  refuseWhileBlocked(failures);
  const { host } = await countingAuthFailures(c.env, failures, async () => {
    // A push's batch id is a UUID: requiring the prefix keeps a push signature and a control one apart.
    if (!c.req.header(HEADER_BATCH)?.startsWith(CONTROL_BATCH_PREFIX)) {
      throw new HttpError(
        401,
        'bad_signature',
        `A control upgrade is signed with a batch id "${CONTROL_BATCH_PREFIX}…"`,
      );
    }
    return authenticateHost(db(c), c.req.raw.headers, EMPTY_BODY);
  });
  requireWebSocketUpgrade(c);
  // Reconnects count against the host's push limit, so a reconnect loop cannot hammer the object.
  await limitIngest(c.env, host.id);
  // Only what the upgrade needs, and who it is: the agent's own headers are not the object's business.
  const headers = new Headers();
  for (const name of ['Upgrade', 'Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version']) {
    const value = c.req.header(name);
    if (value) headers.set(name, value);
  }
  headers.set(TENANT_HEADER, host.tenantId);
  headers.set(AGENT_HOST_HEADER, host.id);
  headers.set(AGENT_KEY_HEADER, host.publicKey);
  headers.set(AGENT_ORIGIN_HEADER, publicOrigin(c));
  return forwardUpgradeToTenant(c, host.tenantId, headers);
});
