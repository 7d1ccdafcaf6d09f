import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import {
  type AppEvent,
  type CustomMetric,
  type HostFacts,
  type IngestBatch,
  MAX_SAMPLES_PER_BATCH,
  type Sample,
} from '@pulsewire/protocol';

const gzipAsync = promisify(gzip);

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

/** The wire form: gzip'd JSON. These bytes are what is signed, spooled and retried, unchanged. */
export async function encodeBatch(batch: IngestBatch): Promise<Uint8Array<ArrayBuffer>> {
  const compressed = await gzipAsync(JSON.stringify(batch));
  return new Uint8Array(compressed.buffer as ArrayBuffer, compressed.byteOffset, compressed.byteLength);
}
