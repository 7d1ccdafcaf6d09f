import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { servePglite } from './pglite-server.ts';
import { assertPortFree, freePort } from './ports.ts';

export interface EmbeddedPostgres {
  /** `postgres://` URL of the socket server, usable by any Postgres client. */
  url: string;
  port: number;
  db: PGlite;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Folder to persist into; omitted means in memory. */
  dataDir?: string;
  /** A data folder tarball (from `dumpDataDir`) to start from, e.g. an already-migrated template. */
  loadDataDir?: Blob | File;
  /** 0 or omitted picks a free port. */
  port?: number;
}

/**
 * PGlite (real Postgres in WebAssembly) behind a TCP socket. Each concurrent Worker request opens
 * its own connection, so the server accepts many; PGlite, a single backend, serves one whole
 * exchange at a time (see `servePglite`).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const port = options.port || (await freePort());
  if (options.port) await assertPortFree(port, 'embedded Postgres');
  if (options.dataDir) fs.mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
  });
  const server = await servePglite(db, { host: '127.0.0.1', port });
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    port,
    db,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
