import { importPrivateKey } from '@pulsewire/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildBatch, encodeBatch } from '../batch.ts';
import { type IngestServer, startIngestServer } from '../test/ingest-server.ts';
import { Backoff, parseRetryAfter } from './backoff.ts';
import { IngestClient } from './client.ts';

let server: IngestServer;
let client: IngestClient;

beforeEach(async () => {
  server = await startIngestServer();
  client = new IngestClient({
    ingestUrl: server.ingestUrl,
    hostId: server.hostId,
    privateKey: await importPrivateKey(server.keys.privateKey),
  });
});
afterEach(async () => {
  await client.close();
  await server.close();
});

async function batch(seq: number) {
  const content = { samples: [{ ts: Date.now(), load: { 1: 0.5, 5: 0.25, 15: 0.125 } }], metrics: [], events: [] };
  const built = buildBatch(server.hostId, seq, Date.now(), content);
  return { built, outgoing: { seq, batchId: built.batch_id, body: await encodeBatch(built) } };
}

describe('ingest client', () => {
  it('sends a signed, gzip-compressed batch that the verifying server accepts', async () => {
    const { built, outgoing } = await batch(1);
    const outcome = await client.send(outgoing);
    expect(outcome).toMatchObject({ kind: 'delivered', response: { accepted: 1, duplicate: false } });
    expect(server.violations).toEqual([]);
    expect(server.received).toEqual([built]);
  });

  it('resending the same batch is acknowledged as a duplicate', async () => {
    const { outgoing } = await batch(1);
    await client.send(outgoing);
    expect(await client.send(outgoing)).toMatchObject({ kind: 'delivered', response: { duplicate: true } });
    expect(server.received).toHaveLength(1);
  });

  it('surfaces 429 with its Retry-After and 5xx as retryable', async () => {
    server.script.push(
      { status: 429, body: { error: { code: 'rate_limited', message: 'slow down' } }, headers: { 'retry-after': '7' } },
      { status: 503, body: { error: { code: 'service_unavailable', message: 'db down' } } },
      { status: 502, body: '<html>bad gateway</html>' },
    );
    expect(await client.send((await batch(1)).outgoing)).toEqual({
      kind: 'retry',
      status: 429,
      code: 'rate_limited',
      message: 'slow down',
      retryAfterMs: 7000,
    });
    expect(await client.send((await batch(2)).outgoing)).toMatchObject({
      kind: 'retry',
      status: 503,
      code: 'service_unavailable',
    });
    expect(await client.send((await batch(3)).outgoing)).toMatchObject({
      kind: 'retry',
      status: 502,
      code: 'http_502',
    });
  });

  it('classifies 401, 403, 413 and 422 with the server code', async () => {
    const error = (code: string) => ({ error: { code, message: `because ${code}`, path: 'samples.0.ts' } });
    server.script.push(
      { status: 401, body: error('stale_timestamp') },
      { status: 403, body: error('host_revoked') },
      { status: 413, body: error('payload_too_large') },
      { status: 422, body: error('validation_failed') },
    );
    const outcomes = [];
    for (let seq = 1; seq <= 4; seq++) outcomes.push(await client.send((await batch(seq)).outgoing));
    expect(outcomes.map((o) => [o.kind, 'code' in o ? o.code : '', 'status' in o ? o.status : 0])).toEqual([
      ['unauthorized', 'stale_timestamp', 401],
      ['revoked', 'host_revoked', 403],
      ['rejected', 'payload_too_large', 413],
      ['rejected', 'validation_failed', 422],
    ]);
    expect(outcomes[3]).toMatchObject({ path: 'samples.0.ts' });
  });

  it('takes only the JSON code host_revoked as a revocation: any other 403 is an auth failure to retry', async () => {
    server.script.push(
      { status: 403, body: '<html><body>Request blocked by the web application firewall</body></html>' },
      { status: 403, body: { error: { code: 'forbidden', message: 'not from this network' } } },
      { status: 403, body: { error: { code: 'host_revoked', message: 'deleted by an admin' } } },
    );
    const outcomes = [];
    for (let seq = 1; seq <= 3; seq++) outcomes.push(await client.send((await batch(seq)).outgoing));
    expect(outcomes.map((o) => [o.kind, 'code' in o ? o.code : ''])).toEqual([
      ['unauthorized', 'http_403'],
      ['unauthorized', 'forbidden'],
      ['revoked', 'host_revoked'],
    ]);
  });

  it('reads the last seq from a 409 replayed_seq; a 409 without it, and a 415, are refusals', async () => {
    server.script.push(
      { status: 409, body: { error: { code: 'replayed_seq', message: 'used', lastSeq: 1234 } } },
      { status: 409, body: { error: { code: 'conflict', message: 'something else' } } },
      { status: 415, body: { error: { code: 'unsupported_media_type', message: 'gzip only' } } },
    );
    const outcomes = [];
    for (let seq = 1; seq <= 3; seq++) outcomes.push(await client.send((await batch(seq)).outgoing));
    expect(outcomes[0]).toMatchObject({ kind: 'replayed', lastSeq: 1234, code: 'replayed_seq', status: 409 });
    expect(outcomes.slice(1).map((o) => o.kind)).toEqual(['rejected', 'rejected']);
  });

  it('reports an unreachable server as retryable', async () => {
    await server.close();
    expect(await client.send((await batch(1)).outgoing)).toMatchObject({ kind: 'retry' });
  });
});

describe('backoff', () => {
  it('grows exponentially with full jitter under a cap, and honours Retry-After', () => {
    const top = new Backoff({ baseMs: 1000, maxMs: 8000, minMs: 0, random: () => 0.999_999 });
    expect([1, 2, 3, 4, 5].map(() => top.next())).toEqual([999, 1999, 3999, 7999, 7999]);
    const bottom = new Backoff({ baseMs: 1000, minMs: 250, random: () => 0 });
    expect(bottom.next()).toBe(250);
    expect(bottom.next(12_000)).toBe(12_000);
    bottom.reset();
    expect(bottom.attempts).toBe(0);
  });

  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(1_800_000_030_000).toUTCString(), 1_800_000_000_000)).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
