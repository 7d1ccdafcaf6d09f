import { createHash, createPrivateKey, type KeyObject, sign as signBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  CONTROL_BATCH_PREFIX,
  CONTROL_PATH,
  type ControlBatch,
  type ControlBatchHeaders,
  CreatedApiKey,
  type CustomMetric,
  canonicalString,
  fromBase64Url,
  type HostKey,
  IngestResponse,
  importPrivateKey,
  ingestHeaders,
  type Sample,
  signIngestRequest,
} from '@pulsewire/protocol';
import { ApiSession, REPO_ROOT, runProcess, verifyFromOutbox } from '@pulsewire/stack';
import { z } from 'zod';

const AGENT_CLI = path.join(REPO_ROOT, 'agent/src/cli.ts');
/** The part of the agent's config file (agent/src/config/schema.ts owns it) the bench signs with. */
const EnrolledIdentity = z.object({ hostId: z.string(), ingestUrl: z.url(), privateKey: z.string() });

/** A signed-up, verified tenant on the bench stack, driven through the public API. */
export class BenchTenant {
  readonly url: string;
  readonly api: ApiSession;
  private constructor(url: string, api: ApiSession) {
    this.url = url;
    this.api = api;
  }

  static async create(url: string, email = `bench-${Date.now()}@example.com`): Promise<BenchTenant> {
    const api = new ApiSession(url);
    await api.expect('POST', '/auth/signup', { email, password: 'benchmark password 1', name: 'Bench' }, 201);
    await verifyFromOutbox(api, email);
    return new BenchTenant(url, api);
  }

  async createKey(scope: 'read' | 'ingest', name: string): Promise<string> {
    return CreatedApiKey.parse(await this.api.expect('POST', '/keys', { name, scope }, 201)).secret;
  }

  /** Enrolls a host with the real agent CLI (so its facts and key are the agent's own), then pushes for it here. */
  async enrollHost(name: string): Promise<BenchHost> {
    const key = await this.createKey('ingest', `bench ${name}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-bench-host-'));
    const config = path.join(dir, 'agent.json');
    const env = { ...process.env, PULSEWIRE_CONFIG: config, PULSEWIRE_STATE_DIR: dir };
    const enroll = await runProcess(
      process.execPath,
      [AGENT_CLI, 'enroll', '--key', key, '--url', this.url, '--name', name],
      env,
    );
    if (enroll.code !== 0) throw new Error(`enroll failed: ${enroll.output}`);
    const sample = await runProcess(process.execPath, [AGENT_CLI, 'collect', '--once', '--json'], {
      ...env,
      PULSEWIRE_DOCKER_SOCKET: '/nonexistent.sock',
    });
    const file = EnrolledIdentity.parse(JSON.parse(fs.readFileSync(config, 'utf8')));
    fs.rmSync(dir, { recursive: true, force: true });
    return new BenchHost(
      file.hostId,
      file.ingestUrl,
      await importPrivateKey(file.privateKey),
      createPrivateKey({ key: Buffer.from(fromBase64Url(file.privateKey)), format: 'der', type: 'pkcs8' }),
      calm(JSON.parse(sample.stdout)),
    );
  }
}

/**
 * The sample with its CPU total capped at 50 %: collected on a busy bench machine it can read 100 %, which sets
 * off the default "High CPU" rule, and the alerting that follows (Postgres writes, mail) would be measured with
 * every batch of a latency or fan-out run.
 */
function calm(sample: Sample): Sample {
  if (!sample.cpu || sample.cpu.total <= 50) return sample;
  return { ...sample, cpu: { ...sample.cpu, total: 50 } };
}

export interface PreparedBatch {
  body: ReturnType<typeof gzipSync>;
  headers: Record<string, string>;
  /** The batch's JSON before gzip. */
  jsonBytes: number;
}

/** A batch signed for the control socket: the `batch` message, ready to send as one text frame. */
export interface PreparedControlBatch {
  batchId: string;
  /** `ControlBatch` as JSON. */
  message: string;
  /** The batch's JSON (the signed body). */
  jsonBytes: number;
  /** The whole message, as UTF-8 on the wire (permessage-deflate off). */
  messageBytes: number;
}

/** Pushes signed batches for one enrolled host, as the agent does (gzip'd JSON, Ed25519 headers). */
export class BenchHost {
  /**
   * Enrolling again from this machine gives back the same host, whose seqs are already stored:
   * start from the clock so a second run never replays one.
   */
  private seq = Date.now();
  readonly id: string;
  private readonly ingestUrl: string;
  private readonly key: HostKey;
  /** The same key for Node's synchronous Ed25519, which signs the bench's batches (see #sign). */
  private readonly signingKey: KeyObject;
  /** One real sample of this machine, re-stamped for every push. */
  readonly template: Sample;
  /** The last answer's `Server-Timing` header (the Worker's ingest phases; local mode sends it). */
  lastServerTiming: string | null = null;
  constructor(id: string, ingestUrl: string, key: HostKey, signingKey: KeyObject, template: Sample) {
    this.id = id;
    this.ingestUrl = ingestUrl;
    this.key = key;
    this.signingKey = signingKey;
    this.template = template;
  }

  sample(ts: number): Sample {
    return { ...this.template, ts };
  }

  /** One batch; resolves with the server's answer (throws on a non-200). */
  async push(samples: Sample[], metrics?: CustomMetric[]): Promise<IngestResponse> {
    const answer = await this.send(this.prepare(samples, metrics));
    if (answer.status !== 200) throw new Error(`ingest answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    return IngestResponse.parse(JSON.parse(answer.text));
  }

  /** A batch gzip'd and signed as the agent does it, ready to send (the ingest bench times the POST alone). */
  prepare(samples: Sample[], metrics?: CustomMetric[]): PreparedBatch {
    const { batchId, seq, json } = this.#batchJson(samples, metrics);
    const body = gzipSync(json);
    return { body, headers: this.#sign(batchId, seq, body), jsonBytes: Buffer.byteLength(json) };
  }

  /**
   * The same batch for the control socket (protocol/src/control.ts): the push's headers, signed over the UTF-8
   * bytes of the uncompressed JSON, which travels as the message's `body`.
   */
  prepareControl(samples: Sample[], metrics?: CustomMetric[]): PreparedControlBatch {
    const { batchId, seq, json } = this.#batchJson(samples, metrics);
    const bytes = Buffer.from(json);
    const headers = this.#sign(batchId, seq, bytes) as ControlBatchHeaders;
    const batch: ControlBatch = { type: 'batch', headers, body: json };
    const message = JSON.stringify(batch);
    return { batchId, message, jsonBytes: bytes.length, messageBytes: Buffer.byteLength(message) };
  }

  /**
   * The agent's signature (protocol/src/signing.ts: Ed25519 over the canonical string), made with Node's
   * synchronous crypto rather than WebCrypto: 45 µs per batch instead of 135 (WebCrypto's digest and sign are
   * each a promise and a thread-pool job). The load generator shares the machine with the server it measures,
   * and an agent signs on its own machine.
   */
  #sign(batchId: string, seq: number, body: Uint8Array): Record<string, string> {
    const timestamp = Date.now();
    const bodySha256 = createHash('sha256').update(body).digest('hex');
    const canonical = canonicalString({ hostId: this.id, timestamp, batchId, bodySha256 });
    const signature = signBytes(null, Buffer.from(canonical), this.signingKey);
    return ingestHeaders({ hostId: this.id, timestamp, batchId, seq }, signature);
  }

  /** The control socket's URL: `CONTROL_PATH` on the ingest URL's origin, as the agent finds it. */
  get controlUrl(): URL {
    const url = new URL(CONTROL_PATH, this.ingestUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url;
  }

  /** The control upgrade's headers: signed like a push over an empty body, batch id `control-<uuid>`. */
  controlHeaders(): Promise<Record<string, string>> {
    return signIngestRequest({
      privateKey: this.key,
      hostId: this.id,
      batchId: `${CONTROL_BATCH_PREFIX}${crypto.randomUUID()}`,
      body: new Uint8Array(0),
      timestamp: Date.now(),
    });
  }

  #batchJson(samples: Sample[], metrics?: CustomMetric[]): { batchId: string; seq: number; json: string } {
    this.seq += 1;
    const batchId = crypto.randomUUID();
    const json = JSON.stringify({
      batch_id: batchId,
      seq: this.seq,
      host_id: this.id,
      sent_at: Date.now(),
      samples,
      ...(metrics?.length ? { metrics } : {}),
    });
    return { batchId, seq: this.seq, json };
  }

  async send(batch: PreparedBatch): Promise<{ status: number; text: string }> {
    const res = await fetch(this.ingestUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...batch.headers },
      body: batch.body,
    });
    const text = await res.text();
    this.lastServerTiming = res.headers.get('server-timing');
    return { status: res.status, text };
  }
}
