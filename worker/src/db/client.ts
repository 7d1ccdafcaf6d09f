import { neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import type { Config } from '../env.ts';
import { HttpError } from '../http/errors.ts';
import type { Database } from './queryable.ts';

export type { Database, Queryable, Transaction } from './queryable.ts';

let relayConfigured: string | undefined;

/**
 * On the embedded stack there is no Neon proxy: a local relay forwards the driver's WebSocket to
 * Postgres' TCP port in plain text. Production keeps the driver's defaults (TLS to Neon's proxy).
 */
function configureRelay(relay: string | undefined): void {
  if (!relay || relayConfigured === relay) return;
  neonConfig.wsProxy = (host, port) => `${relay}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
  relayConfigured = relay;
}

export interface DatabaseHandle {
  db: Database;
  pool: Pool;
  /** Closes the pool's sockets; Workers may not reuse them across requests. */
  close(): Promise<void>;
}

/**
 * A pool per request: Workers forbid sharing I/O objects between requests, and Neon's proxy makes
 * a fresh connection cheap.
 */
export function openDatabase(config: Config): DatabaseHandle {
  if (!config.DATABASE_URL) {
    throw new HttpError(503, 'service_unavailable', 'No database is configured (DATABASE_URL is unset)');
  }
  configureRelay(config.PG_RELAY);
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 5, connectionTimeoutMillis: 5_000 });
  // An idle client that loses its socket emits 'error' on the pool; without a listener that would throw.
  pool.on('error', () => {});
  // No `schema`: it serves only drizzle's relational queries (`db.query.*`), which nothing here uses, and drizzle
  // would walk every table's relations again for each request's handle (~1 % of the isolate's CPU under ingest).
  return { db: drizzle({ client: pool }), pool, close: () => pool.end() };
}
