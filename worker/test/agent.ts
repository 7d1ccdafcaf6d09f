import {
  CreatedApiKey,
  EnrollResponse,
  generateHostKeyPair,
  type HostFacts,
  type IngestBatch,
  importPrivateKey,
  type Sample,
  signIngestRequest,
} from '@pulsewire/protocol';
import type { Env } from '../src/env.ts';
import { signedUpClient, type TestClient } from './client.ts';
import { callWorker } from './support.ts';

export const FACTS: HostFacts = {
  os: 'Debian GNU/Linux 12',
  kernel: '6.1.0-18-amd64',
  arch: 'x64',
  cpuModel: 'AMD EPYC 7763',
  cores: 2,
  memTotal: 24 * 1024 ** 3,
  bootTime: Date.UTC(2026, 10, 1),
  hostname: 'web-1',
};

export function sample(ts: number, cpu = 12.5): Sample {
  return {
    ts,
    cpu: { total: cpu, user: cpu / 2, system: cpu / 4, iowait: 0, steal: 0, perCore: [cpu, cpu] },
    memory: { total: 24e9, used: 6e9, available: 18e9, cached: 2e9, swapTotal: 0, swapUsed: 0 },
  } as Sample;
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * A stand-in for the agent inside workerd: enrolls with a real ingest key through the real
 * route and signs batches with the protocol's signing code, exactly as the agent does.
 */
export class TestAgent {
  seq = 0;
  readonly env: Env;
  readonly hostId: string;
  readonly tenantId: string;
  readonly privateKey: string;
  constructor(env: Env, hostId: string, tenantId: string, privateKey: string) {
    this.env = env;
    this.hostId = hostId;
    this.tenantId = tenantId;
    this.privateKey = privateKey;
  }

  /** Enrolls a fresh key pair, or `keys` (a machine enrolling again with the key it has). */
  static async enroll(
    env: Env,
    ingestKey: string,
    machineId = crypto.randomUUID(),
    name = 'web-1',
    keys?: { publicKey: string; privateKey: string },
  ) {
    keys ??= await generateHostKeyPair();
    const res = await enrollRequest(env, ingestKey, {
      publicKey: keys.publicKey,
      machineId,
      hostname: name,
      name,
      labels: { env: 'test' },
      facts: FACTS,
      agentVersion: '0.1.0',
    });
    if (res.status !== 200) throw new Error(`enroll failed: ${res.status} ${await res.text()}`);
    const body = EnrollResponse.parse(await res.json());
    return new TestAgent(env, body.hostId, body.tenantId ?? '', keys.privateKey);
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

  async push(
    batch: IngestBatch | Record<string, unknown>,
    options: {
      gzip?: boolean;
      timestamp?: number;
      tamper?: boolean;
      body?: Uint8Array<ArrayBuffer>;
      /** Added last, so they replace the defaults (same spelling), e.g. `Content-Encoding` or `CF-Connecting-IP`. */
      headers?: Record<string, string>;
    } = {},
  ): Promise<Response> {
    const json = new Uint8Array(new TextEncoder().encode(JSON.stringify(batch)));
    const body = options.body ?? (options.gzip === false ? json : await gzip(json));
    const headers = await signIngestRequest({
      privateKey: await importPrivateKey(this.privateKey),
      hostId: this.hostId,
      batchId: String(batch.batch_id),
      body,
      ...(options.timestamp ? { timestamp: options.timestamp } : {}),
    });
    const sent = options.tamper ? Uint8Array.from(body, (b, i) => (i === body.length - 1 ? b ^ 1 : b)) : body;
    return callWorker(this.env, '/api/v1/ingest', {
      method: 'POST',
      headers: {
        ...headers,
        'Content-Type': 'application/json',
        ...(options.gzip === false ? {} : { 'Content-Encoding': 'gzip' }),
        ...options.headers,
      },
      body: sent,
    });
  }
}

export function enrollRequest(env: Env, ingestKey: string, body: unknown): Promise<Response> {
  return callWorker(env, '/api/v1/agents/enroll', {
    method: 'POST',
    headers: { Authorization: `Bearer ${ingestKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** A signed-up owner with an ingest key. */
export async function ownerWithIngestKey(
  env: Env,
  label = 'ops',
): Promise<{ owner: TestClient; ingestKey: string; keyId: string }> {
  const { client: owner } = await signedUpClient(env, label);
  const res = await owner.post('/api/v1/keys', { name: 'agents', scope: 'ingest' });
  const { key, secret } = CreatedApiKey.parse(await res.json());
  return { owner, ingestKey: secret, keyId: key.id };
}
