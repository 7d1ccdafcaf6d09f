import {
  CONTROL_CLOSE,
  CONTROL_MAX_BATCHES_IN_FLIGHT,
  type ControlServerMessage,
  generateHostKeyPair,
  type IngestBatch,
  importPrivateKey,
  signIngestRequest,
} from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../env.ts';
import type { StoreBatchesResult, StoreItem } from '../../ingest/store.ts';
import type { AgentAttachment } from '../agent-control.ts';
import { AgentIngest, COMMITS_AT_ONCE, type StoredBatch } from './agent-ingest.ts';

const HOST = '7f0c6a8e-2d7b-4f57-9a39-6f1b3c2e9d10';
const TENANT = '0b6f3e55-7a3a-4a5e-8f4e-1c2d3e4f5a6b';

/** An agent socket as the object sees it: what it was sent, and how it was closed. */
function fakeSocket() {
  const sent: ControlServerMessage[] = [];
  const closes: number[] = [];
  const ws = {
    send: (text: string) => sent.push(JSON.parse(text)),
    close: (code: number) => closes.push(code),
  } as unknown as WebSocket;
  return { ws, sent, closes };
}

async function setup(
  store: (items: StoreItem[]) => Promise<StoreBatchesResult>,
  record: (stored: StoredBatch) => Promise<void> = async () => {},
) {
  const keys = await generateHostKeyPair();
  const privateKey = await importPrivateKey(keys.privateKey);
  const recorded: StoredBatch[] = [];
  const ingest = new AgentIngest({
    config: () => ({ DATABASE_URL: 'postgres://db.invalid/none' }) as Config,
    watchedLive: () => false,
    showLive: async () => false,
    record: async (stored) => {
      recorded.push(stored);
      await record(stored);
    },
    store: (_database, _tenantId, items) => store([...items]),
    openDatabase: () => ({ db: {} as never, pool: {} as never, close: async () => {} }),
  });
  const agent: AgentAttachment = {
    v: 1,
    kind: 'agent',
    hostId: HOST,
    tenantId: TENANT,
    connectedAt: Date.now(),
    live: false,
    publicKey: keys.publicKey,
    origin: 'https://pulsewire.test',
  };
  let seq = 0;
  const message = async () => {
    const batch: IngestBatch = {
      batch_id: crypto.randomUUID(),
      seq: ++seq,
      host_id: HOST,
      sent_at: Date.now(),
      samples: [{ ts: Date.now() - 1000 } as IngestBatch['samples'][number]],
    };
    const body = JSON.stringify(batch);
    const headers = await signIngestRequest({
      privateKey,
      hostId: HOST,
      batchId: batch.batch_id,
      seq: batch.seq,
      body: new Uint8Array(new TextEncoder().encode(body)),
    });
    return { batch, raw: JSON.stringify({ type: 'batch', headers, body }) };
  };
  return { ingest, agent, recorded, message };
}

const storedAll = async (items: StoreItem[]): Promise<StoreBatchesResult> => ({
  outcomes: items.map((item) => ({
    duplicate: false,
    accepted: item.batch.samples.length,
    samples: item.batch.samples,
  })),
  hosts: new Map([[HOST, { name: 'web-1', labels: { env: 'prod' } }]]),
});

describe('AgentIngest', () => {
  it('acknowledges a stored batch, then hands it to the object with its host as the commit read it', async () => {
    const { ingest, agent, recorded, message } = await setup(storedAll);
    const socket = fakeSocket();
    const { batch, raw } = await message();
    await ingest.message(socket.ws, agent, raw);
    expect(socket.sent).toEqual([{ type: 'ack', batch_id: batch.batch_id, accepted: 1, duplicate: false }]);
    expect(recorded).toMatchObject([
      { hostId: HOST, tenantId: TENANT, origin: 'https://pulsewire.test', host: { name: 'web-1' }, liveShown: false },
    ]);
  });

  it('answers a duplicate without recording it again', async () => {
    const { ingest, agent, recorded, message } = await setup(async (items) => ({
      outcomes: items.map(() => ({ duplicate: true, accepted: 0 })),
      hosts: new Map(),
    }));
    const socket = fakeSocket();
    const { batch, raw } = await message();
    await ingest.message(socket.ws, agent, raw);
    expect(socket.sent).toEqual([{ type: 'ack', batch_id: batch.batch_id, accepted: 0, duplicate: true }]);
    expect(recorded).toEqual([]);
  });

  it('answers 503 when the commit fails, so the agent keeps the batch and sends it again', async () => {
    const { ingest, agent, recorded, message } = await setup(async () => {
      throw new Error('connection reset');
    });
    const socket = fakeSocket();
    const { batch, raw } = await message();
    await ingest.message(socket.ws, agent, raw);
    expect(socket.sent).toMatchObject([
      { type: 'nack', batch_id: batch.batch_id, status: 503, error: { code: 'service_unavailable' } },
    ]);
    expect(recorded).toEqual([]);
  });

  it('commits what queued during a commit together, and closes a socket past its in-flight cap', async () => {
    const groups: number[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { ingest, agent, message } = await setup(async (items) => {
      groups.push(items.length);
      await gate;
      return storedAll(items);
    });
    const socket = fakeSocket();
    const messages = await Promise.all(Array.from({ length: CONTROL_MAX_BATCHES_IN_FLIGHT + 1 }, () => message()));
    const handled = messages.map(({ raw }) => ingest.message(socket.ws, agent, raw));
    // The one past the cap is refused at once, before its signature is even read.
    expect(socket.closes).toEqual([CONTROL_CLOSE.tooManyInFlight]);
    // COMMITS_AT_ONCE commits take the first batches one each; the rest queue behind them.
    const queuing = CONTROL_MAX_BATCHES_IN_FLIGHT - COMMITS_AT_ONCE;
    for (let i = 0; i < 20 && ingest.queued < queuing; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(ingest.queued).toBe(queuing);
    release();
    await Promise.all(handled);
    expect(groups).toEqual([...Array(COMMITS_AT_ONCE).fill(1), queuing]);
    expect(socket.sent.filter((m) => m.type === 'ack')).toHaveLength(CONTROL_MAX_BATCHES_IN_FLIGHT);
  });

  it('counts a batch against the window until it is answered, not until the object is done with it', async () => {
    // The object's work after the ack (live frames, presence, alerts) never ends here.
    const { ingest, agent, message } = await setup(storedAll, () => new Promise(() => {}));
    const socket = fakeSocket();
    const first = await Promise.all(Array.from({ length: CONTROL_MAX_BATCHES_IN_FLIGHT }, () => message()));
    for (const { raw } of first) void ingest.message(socket.ws, agent, raw);
    for (let i = 0; i < 50 && socket.sent.length < CONTROL_MAX_BATCHES_IN_FLIGHT; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(socket.sent).toHaveLength(CONTROL_MAX_BATCHES_IN_FLIGHT);
    // A full window again, sent on those acks: none is refused.
    const second = await Promise.all(Array.from({ length: CONTROL_MAX_BATCHES_IN_FLIGHT }, () => message()));
    for (const { raw } of second) void ingest.message(socket.ws, agent, raw);
    expect(socket.closes).toEqual([]);
  });

  it('asks a socket accepted without the key to connect again', async () => {
    const { ingest, agent, message } = await setup(storedAll);
    const socket = fakeSocket();
    const { publicKey: _key, ...keyless } = agent;
    await ingest.message(socket.ws, keyless, (await message()).raw);
    expect(socket.closes).toEqual([CONTROL_CLOSE.reconnect]);
    expect(socket.sent).toEqual([]);
  });
});
