import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { FrontendSplitter, queryMessage, ReadyWatcher, SYNC } from './pg-wire.ts';

export interface PgliteServer {
  port: number;
  stop(): Promise<void>;
}

/**
 * Serves one PGlite to many Postgres connections. PGlite is a single backend: one unnamed statement,
 * one unnamed portal, one transaction, one "skip until Sync" after an error. So a connection gets it
 * for a whole exchange, from its first message until the server answers ReadyForQuery in the idle
 * state: through Parse/Bind/Execute…Sync, and through a transaction until it ends. Connections queue
 * in arrival order for their turn.
 *
 * This replaces `@electric-sql/pglite-socket`'s server, which hands PGlite one message at a time
 * from whichever connection is next and keeps a connection's turn only inside a transaction, so two
 * connections' extended-protocol messages interleaved ("unnamed prepared statement does not exist",
 * or worse, one client's Bind running another's statement).
 */
export async function servePglite(db: PGlite, options: { host: string; port: number }): Promise<PgliteServer> {
  await db.waitReady;
  const turns = new Turns();
  const sessions = new Set<Session>();
  const server = net.createServer((socket) => {
    const session = new Session(db, turns, socket);
    sessions.add(session);
    socket.once('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.socket.destroy();
      await Promise.all([...sessions].map((session) => session.finished));
      await closed;
    },
  };
}

/** Whose turn it is with PGlite, and who waits, first come first served. */
class Turns {
  private holder: Session | undefined;
  private readonly waiting: { session: Session; grant: () => void }[] = [];

  take(session: Session): Promise<void> {
    if (!this.holder) {
      this.holder = session;
      return Promise.resolve();
    }
    return new Promise((grant) => this.waiting.push({ session, grant }));
  }

  give(session: Session): void {
    if (this.holder !== session) return;
    const next = this.waiting.shift();
    this.holder = next?.session;
    next?.grant();
  }
}

class Session {
  private readonly splitter = new FrontendSplitter();
  private readonly backend = new ReadyWatcher();
  /** Whole typed messages (and the startup message) waiting to go to PGlite, in order. */
  private readonly inbox: Buffer[] = [];
  private pumping = false;
  private holding = false;
  /** PGlite ran something of ours during this turn, so the session may need cleaning before the turn passes on. */
  private used = false;
  private closed = false;
  private done: () => void = () => {};
  /** Settles once the session is closed and its turn, if it had one, is passed on. */
  readonly finished = new Promise<void>((resolve) => {
    this.done = resolve;
  });

  private readonly db: PGlite;
  private readonly turns: Turns;
  readonly socket: net.Socket;

  constructor(db: PGlite, turns: Turns, socket: net.Socket) {
    this.db = db;
    this.turns = turns;
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    let messages: ReturnType<FrontendSplitter['push']>;
    try {
      messages = this.splitter.push(chunk);
    } catch {
      this.socket.destroy();
      return;
    }
    for (const message of messages) {
      if (message.kind === 'ssl' || message.kind === 'gssenc') this.socket.write('N');
      else if (message.kind === 'cancel') {
        // PGlite has no backend process to interrupt; a cancel connection carries nothing else.
        this.socket.end();
        return;
      } else if (message.kind === 'typed' && message.type === 'X') {
        // Terminate never reaches PGlite: there it would end the one backend everybody shares.
        this.socket.end();
        this.close();
        return;
      } else this.inbox.push(message.bytes);
    }
    void this.pump();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox.length = 0;
    void this.pump();
  }

  /** Runs queued messages, one batch per call into PGlite, taking and passing on the turn around exchanges. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.inbox.length > 0 && !this.closed) {
        if (!this.holding) {
          await this.turns.take(this);
          this.holding = true;
          this.used = false;
          if (this.closed) break;
        }
        // PGlite takes a startup message only on its own; everything after it can go in one call.
        const batch = this.inbox[0]?.[0] === 0 ? [this.inbox.shift() as Buffer] : this.inbox.splice(0);
        this.used = true;
        try {
          await this.run(Buffer.concat(batch), (data) => {
            this.backend.push(data);
            if (!this.socket.destroyed) this.socket.write(Buffer.from(data));
          });
        } catch {
          this.socket.destroy();
          this.closed = true;
          break;
        }
        if (this.backend.idle) this.passTurn();
      }
      if (this.closed) {
        if (this.holding && this.used) await this.reset();
        this.passTurn();
        this.done();
      }
    } finally {
      this.pumping = false;
    }
  }

  private passTurn(): void {
    if (!this.holding) return;
    this.holding = false;
    this.turns.give(this);
  }

  /** Leaves PGlite as a fresh connection would find it when a connection goes away mid-exchange. */
  private async reset(): Promise<void> {
    const discard = () => {};
    try {
      // Sync ends a failed extended-protocol exchange, whose "skip until Sync" would swallow the rollback.
      await this.run(SYNC, discard);
      if (this.db.isInTransaction()) await this.run(queryMessage('rollback'), discard);
    } catch {
      // Nothing more to do for a connection that is gone; the next one starts with its own messages.
    }
  }

  private run(message: Uint8Array, onRawData: (data: Uint8Array) => void): Promise<void> {
    return this.db.runExclusive(() => this.db.execProtocolRawStream(message, { onRawData }));
  }
}
