import { randomUUID } from 'node:crypto';
import { gunzip, gzip } from 'node:zlib';
import {
  type AppEvent,
  type CustomMetric,
  type HostFacts,
  type IngestBatch,
  MAX_SAMPLES_PER_BATCH,
  type Sample,
  toStorableText,
} from '@pulsewire/protocol';

/** zlib's callbacks as promises, without util.promisify: an ES import of node:util costs ~1.7 MB (builtins.ts). */
const gzipAsync = (data: string | Uint8Array) =>
  new Promise<Buffer>((resolve, reject) => gzip(data, (error, result) => (error ? reject(error) : resolve(result))));
const gunzipAsync = (data: Uint8Array) =>
  new Promise<Buffer>((resolve, reject) => gunzip(data, (error, result) => (error ? reject(error) : resolve(result))));

/**
 * What `JSON.stringify` writes for the strings Postgres cannot store: `\u0000`, and an unpaired surrogate
 * (`\ud800`…`\udfff`; a well-formed pair is written as the character itself). Also matches an escaped
 * backslash followed by such text, which only costs the slow path below.
 */
const UNSTORABLE_ESCAPE = /\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

export interface BatchContent {
  samples: Sample[];
  metrics: CustomMetric[];
  events: AppEvent[];
  facts?: HostFacts;
}

/**
 * Splits what accumulated since the last push into protocol-sized batches: samples in chunks, oldest first;
 * metrics, events and facts ride with the newest chunk.
 */
export function splitContent(content: BatchContent, maxSamples = MAX_SAMPLES_PER_BATCH): BatchContent[] {
  const chunks: BatchContent[] = [];
  for (let i = 0; i < content.samples.length; i += maxSamples) {
    chunks.push({ samples: content.samples.slice(i, i + maxSamples), metrics: [], events: [] });
  }
  const extras = content.metrics.length > 0 || content.events.length > 0 || content.facts;
  if (extras) {
    const last = chunks.at(-1) ?? { samples: [], metrics: [], events: [] };
    if (chunks.length === 0) chunks.push(last);
    last.metrics = content.metrics;
    last.events = content.events;
    if (content.facts) last.facts = content.facts;
  }
  return chunks;
}

export function buildBatch(hostId: string, seq: number, sentAt: number, content: BatchContent): IngestBatch {
  return {
    batch_id: randomUUID(),
    seq,
    host_id: hostId,
    sent_at: sentAt,
    samples: content.samples,
    ...(content.metrics.length > 0 ? { metrics: content.metrics } : {}),
    ...(content.events.length > 0 ? { events: content.events } : {}),
    ...(content.facts ? { facts: content.facts } : {}),
  };
}

/**
 * The batch as JSON, every string cleaned to what the server stores (protocol's storable text): a NUL or a lone
 * surrogate from a container name or a StatsD tag must not get the whole batch refused. The check runs on the
 * JSON text, so a clean batch (nearly every one) is serialized once, without a replacer.
 */
export function batchJson(batch: IngestBatch): string {
  const json = JSON.stringify(batch);
  if (!UNSTORABLE_ESCAPE.test(json)) return json;
  return JSON.stringify(batch, (_key, value: unknown) => (typeof value === 'string' ? toStorableText(value) : value));
}

/** The wire form: gzip'd JSON. These bytes are what is signed, spooled and retried, unchanged. */
export async function encodeBatch(batch: IngestBatch): Promise<Uint8Array<ArrayBuffer>> {
  const compressed = await gzipAsync(batchJson(batch));
  return new Uint8Array(compressed.buffer as ArrayBuffer, compressed.byteOffset, compressed.byteLength);
}

/** The same batch (same id and content) under another seq: a new body, since seq is part of it. */
export async function renumberBatch(body: Uint8Array, seq: number): Promise<Uint8Array<ArrayBuffer>> {
  const batch = JSON.parse((await gunzipAsync(body)).toString('utf8')) as IngestBatch;
  return encodeBatch({ ...batch, seq });
}

/**
 * zlib's output chunk for inflating a batch: at or over glibc's mmap threshold as the agent runs (node-tuning.ts,
 * 32 KiB), so each is mapped and unmapped instead of carved out of the heap. With the default 16 KiB chunk, a
 * backlog of 1,000 batches drained over the control socket left ~4 MiB more resident (freed, fragmented heap).
 */
const MMAPPED_CHUNK_BYTES = 64 * 1024;

/**
 * The batch's JSON bytes back from its wire form (what the control socket carries, signed as they are), or
 * undefined when they are over `maxBytes`. gzip's trailer holds the inflated size (mod 2^32; ours are one member,
 * far under 4 GiB), so a batch too large for the socket is never inflated just to find out.
 */
export async function batchJsonBytes(body: Uint8Array, maxBytes: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (body.byteLength < 18 || body.byteLength > maxBytes) return undefined;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (view.getUint32(body.byteLength - 4, true) > maxBytes) return undefined;
  const json = await new Promise<Buffer>((resolve, reject) =>
    gunzip(body, { chunkSize: MMAPPED_CHUNK_BYTES }, (error, result) => (error ? reject(error) : resolve(result))),
  );
  if (json.byteLength > maxBytes) return undefined;
  return new Uint8Array(json.buffer as ArrayBuffer, json.byteOffset, json.byteLength);
}
