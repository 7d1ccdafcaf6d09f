import { createRoute } from '@hono/zod-openapi';
import {
  ApiErrorBody,
  type Cadence,
  EnrollRequest,
  EnrollResponse,
  INGEST_PATH,
  IngestResponse,
  MAX_INGEST_BODY_BYTES,
  MAX_INGEST_DECODED_BYTES,
  ReplayedSeqErrorBody,
  toLiveSample,
} from '@pulsewire/protocol';
import type { Context, MiddlewareHandler } from 'hono';
import { parseConfig } from '../env.ts';
import type { AppEnv, IngestKey } from '../http/app-env.ts';
import { connectDatabase, db } from '../http/database.ts';
import { log } from '../http/logger.ts';
import { jsonRoute, router } from '../http/route.ts';
import { PhaseTimer } from '../http/server-timing.ts';
import { batchObservation } from '../ingest/alert-observation.ts';
import { decodeBody, parseJson, readBody } from '../ingest/body.ts';
import { idleCadence as idleCadenceOf } from '../ingest/cadence.ts';
import { enrollHost } from '../ingest/enroll.ts';
import { authenticateHost, authenticateIngestKey } from '../ingest/host-auth.ts';
import { liveSamplesBeforeStore, noteCadence, showLiveEarly, watchedLive } from '../ingest/live-first.ts';
import { parseSignedBatch } from '../ingest/parse-batch.ts';
import { storeBatch } from '../ingest/store.ts';
import { deliverToTenant } from '../ingest/tenant-delivery.ts';
import { authFailureKey, countingAuthFailures, refuseWhileBlocked } from '../limits/auth-failures.ts';
import { limitIngest } from '../limits/ingest-limit.ts';
import { clientIp, enforceRateLimit, RATE_LIMITS } from '../limits/rate-limit.ts';
import { publicOrigin } from './auth.ts';

const tags = ['agents'];
const errorContent = { 'application/json': { schema: ApiErrorBody } };

function idleCadence(c: Context<AppEnv>): Cadence {
  return idleCadenceOf(parseConfig(c.env));
}

function tenantObject(c: Context<AppEnv>, tenantId: string) {
  return c.env.TENANT.get(c.env.TENANT.idFromName(tenantId));
}

/**
 * Enrollment checks its key (and its rate limit) before the body: route middleware runs ahead of the body
 * validator, so an anonymous caller learns 401, never which fields the body lacks.
 */
const requireIngestKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const failures = authFailureKey('enroll', clientIp(c.req.raw));
  refuseWhileBlocked(failures);
  const key = await countingAuthFailures(c.env, failures, () =>
    authenticateIngestKey(db(c), c.req.header('Authorization')),
  );
  await enforceRateLimit(c.env, RATE_LIMITS.enroll, [`enroll:${key.id}`]);
  c.set('ingestKey', { id: key.id, tenantId: key.tenantId });
  await next();
};

const ingestRoute = createRoute({
  method: 'post',
  path: '/ingest',
  tags,
  summary: 'Push a signed batch of samples, metrics and events (agents only)',
  description:
    'Body: an IngestBatch as JSON, optionally `Content-Encoding: gzip`. Authenticated by an Ed25519 signature ' +
    'over version, host id, timestamp, batch id and the SHA-256 of the exact body bytes (headers ' +
    '`x-pulsewire-host`, `x-pulsewire-timestamp`, `x-pulsewire-batch`, `x-pulsewire-signature`). ' +
    'A repeated batch_id is acknowledged and stored once. Samples, metrics and events stamped more than ' +
    'a minute after the signed timestamp are not stored; `accepted` counts what was.',
  // No `request.body` here on purpose: a declared body is parsed by the validator, and the signature must be
  // checked over the raw (possibly gzip'd) bytes before anything parses them. The handler validates IngestBatch.
  responses: {
    200: { description: 'Stored (or already stored)', content: { 'application/json': { schema: IngestResponse } } },
    400: { description: 'Malformed body', content: errorContent },
    401: { description: 'Bad or absent signature, unknown host, stale timestamp', content: errorContent },
    403: { description: 'Revoked host', content: errorContent },
    409: {
      description: 'Sequence number used by another batch; `lastSeq` is the highest stored, send again above it',
      content: { 'application/json': { schema: ReplayedSeqErrorBody } },
    },
    413: { description: 'Body too large', content: errorContent },
    422: { description: 'Schema violation; `path` names the first bad field', content: errorContent },
    415: { description: 'Content-Encoding other than gzip or identity', content: errorContent },
    429: { description: 'Too many batches for this host, or too many failed signatures', content: errorContent },
  },
});

export const agentRoutes = router()
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/agents/enroll',
      summary:
        'Register a machine: its public key and facts, with an ingest API key as bearer. The same public key is the same host; a new key is a new host unless an admin allowed a key replacement for that machine (`POST /hosts/{id}/replace-key`); a revoked host answers 403 `host_revoked`',
      tags,
      body: EnrollRequest,
      response: EnrollResponse,
      status: 200,
      middleware: [requireIngestKey],
    }),
    async (c) => {
      const key = c.get('ingestKey') as IngestKey;
      const hostId = await enrollHost(db(c), key, c.req.valid('json'));
      return c.json(
        {
          hostId,
          tenantId: key.tenantId,
          ingestUrl: `${publicOrigin(c)}${INGEST_PATH}`,
          cadence: idleCadence(c),
        },
        200,
      );
    },
  )
  .openapi(ingestRoute, async (c) => {
    const timer = new PhaseTimer(parseConfig(c.env).PULSEWIRE_MODE === 'local');
    const database = db(c);
    const failures = authFailureKey('ingest', clientIp(c.req.raw));
    refuseWhileBlocked(failures);
    const raw = await readBody(c.req.raw, MAX_INGEST_BODY_BYTES);
    timer.mark('body');
    const { host, signedAt } = await countingAuthFailures(c.env, failures, () =>
      authenticateHost(database, c.req.raw.headers, raw, timer),
    );
    // The limit is keyed by the verified host, so it comes after the signature, and before any connection: a
    // refused push costs none (with the host from the isolate cache, no query at all).
    await limitIngest(c.env, host.id);
    timer.mark('limit');
    // Signed and within its limit: open the connection now, so the handshake overlaps decoding and parsing.
    const connected = connectDatabase(c);
    const decoded = await decodeBody(raw, c.req.header('Content-Encoding') ?? null, MAX_INGEST_DECODED_BYTES);
    const { batch, dropped } = parseSignedBatch(parseJson(decoded), {
      hostId: host.id,
      batchId: c.req.header('x-pulsewire-batch'),
      signedAt,
    });
    if (dropped > 0) {
      log('warn', 'ingest: items stamped in the future were not stored', {
        requestId: c.get('requestId'),
        hostId: host.id,
        dropped,
        signedAt: new Date(signedAt).toISOString(),
      });
    }
    timer.mark('parse');
    const tenant = tenantObject(c, host.tenantId);
    // A host someone watches live has its frames shown while the batch is stored, not after: the dashboard's
    // delay is then the object hop alone. Presence, alerts and events still wait for the commit (decisions.md,
    // "Live before the commit").
    // Connected before the frames go out: the object's fan-out must not compete with the handshake (under wrangler
    // dev they share one thread, and a handshake starved past its 5 s timeout failed the batch with a 500).
    await connected;
    timer.mark('connect');
    const early = watchedLive(host.id)
      ? timer.time(
          'live',
          showLiveEarly(() => tenant.showLive(host.id, batch.batch_id, liveSamplesBeforeStore(batch.samples))),
        )
      : null;
    const result = await timer.time('store', storeBatch(database, host, batch, host.publicKey));
    const liveShown = early ? await early : false;
    timer.mark('store-and-live');
    // Stored is stored: from here on, the tenant object failing costs the live view, never the answer.
    const idle = idleCadence(c);
    const where = { hostId: host.id, tenantId: host.tenantId };
    // A retried batch is not delivered twice, but its answer must still say whether someone watches the host.
    const cadence = result.duplicate
      ? await deliverToTenant(c, { ...where, call: 'cadenceFor' }, () => tenant.cadenceFor(host.id, idle), {
          fallback: idle,
          retry: false,
        })
      : await deliverToTenant(
          c,
          { ...where, call: 'recordBatch' },
          () =>
            tenant.recordBatch({
              hostId: host.id,
              samples: result.samples.map(toLiveSample),
              events: batch.events ?? [],
              idle,
              liveShown,
              batchId: batch.batch_id,
              alerts: {
                identity: { tenantId: host.tenantId, origin: publicOrigin(c) },
                observation: batchObservation(host, { ...batch, samples: result.samples }),
              },
            }),
          { fallback: idle, retry: true },
        );
    noteCadence(host.id, cadence);
    timer.mark('tenant');
    const timing = timer.header();
    if (timing) c.header('Server-Timing', timing);
    return c.json({ accepted: result.accepted, duplicate: result.duplicate, cadence }, 200);
  });
