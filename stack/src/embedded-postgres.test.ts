import { Duplex } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.ts';
import { type Relay, startRelay } from './relay.ts';

/**
 * node-postgres over the relay's WebSocket, as the Worker's Neon driver reaches Postgres locally:
 * pg accepts any socket-like stream, so this stands in for `net.Socket`.
 */
class RelayStream extends Duplex {
  private ws?: WebSocket;
  private readonly relay: string;
  constructor(relay: string) {
    super();
    this.relay = relay;
  }
  setNoDelay() {}
  setKeepAlive() {}
  ref() {}
  unref() {}
  connect(port: number, host: string) {
    const ws = new WebSocket(`ws://${this.relay}/v2?address=${host}:${port}`);
    this.ws = ws;
    ws.on('open', () => this.emit('connect'));
    ws.on('message', (data: Buffer) => this.push(data));
    ws.on('close', () => {
      this.push(null);
      this.destroy();
    });
    ws.on('error', (error) => this.destroy(error));
    return this;
  }
  override _read() {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void) {
    this.ws?.send(chunk, callback);
  }
  override _final(callback: () => void) {
    this.ws?.close();
    callback();
  }
}

const CLIENTS = 20;
const ROUNDS = 40;

async function connectAll(make: () => pg.Client): Promise<pg.Client[]> {
  const clients = Array.from({ length: CLIENTS }, make);
  await Promise.all(clients.map((c) => c.connect()));
  return clients;
}

/**
 * Each client runs its own queries (different texts, parameters and result shapes) in rounds, all
 * clients at once. Any interleaving of two connections' extended-protocol messages shows up as a
 * wrong row, a wrong column, or an error such as "unnamed prepared statement does not exist".
 */
async function hammer(clients: pg.Client[]): Promise<void> {
  await Promise.all(
    clients.map(async (client, c) => {
      for (let round = 0; round < ROUNDS; round++) {
        const tag = `c${c}r${round}`;
        if (c % 4 === 0) {
          const { rows } = await client.query('select $1::int as client, $2::text as tag', [c, tag]);
          expect(rows).toEqual([{ client: c, tag }]);
        } else if (c % 4 === 1) {
          const { rows } = await client.query('select $1::text || $2::text as joined, $3::int * 2 as twice', [
            tag,
            '!',
            round,
          ]);
          expect(rows).toEqual([{ joined: `${tag}!`, twice: round * 2 }]);
        } else if (c % 4 === 2) {
          // A transaction: its writes are its own until it commits, and nobody else's land in between.
          await client.query('begin');
          await client.query('insert into probe (client, tag) values ($1, $2)', [c, tag]);
          const { rows } = await client.query('select tag from probe where client = $1 order by id desc limit 1', [c]);
          expect(rows).toEqual([{ tag }]);
          await client.query('commit');
        } else {
          // A failing statement between good ones: its error must not reach, or discard, anyone else's messages.
          await expect(client.query('select 1 / $1::int as n', [0])).rejects.toThrow(/division by zero/);
          const { rows } = await client.query('select $1::int as n', [round]);
          expect(rows).toEqual([{ n: round }]);
        }
      }
    }),
  );
}

describe('embedded Postgres under concurrency', () => {
  let embedded: EmbeddedPostgres;
  let relay: Relay;
  beforeAll(async () => {
    embedded = await startEmbeddedPostgres();
    relay = await startRelay();
    await embedded.db.exec('create table probe (id serial primary key, client int not null, tag text not null)');
  });
  afterAll(async () => {
    await relay.stop();
    await embedded.stop();
  });

  it('keeps each of 20 TCP connections’ extended-protocol exchanges whole', async () => {
    const clients = await connectAll(() => new pg.Client({ connectionString: embedded.url }));
    try {
      await hammer(clients);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('does the same for 20 connections through the WebSocket relay', async () => {
    const clients = await connectAll(
      () => new pg.Client({ connectionString: embedded.url, stream: () => new RelayStream(relay.address) }),
    );
    try {
      await hammer(clients);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('rolls back and lets others in when a connection dies inside a transaction', async () => {
    const dying = new pg.Client({ connectionString: embedded.url });
    await dying.connect();
    await dying.query('begin');
    await dying.query("insert into probe (client, tag) values (-1, 'never committed')");
    // Gone without Terminate, as when a process is killed.
    (dying as unknown as { connection: { stream: Duplex } }).connection.stream.destroy();
    dying.on('error', () => {});

    const other = new pg.Client({ connectionString: embedded.url });
    await other.connect();
    try {
      const { rows } = await other.query('select count(*)::int as n from probe where client = $1', [-1]);
      expect(rows).toEqual([{ n: 0 }]);
    } finally {
      await other.end();
    }
  });
});
