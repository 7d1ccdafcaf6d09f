import path from 'node:path';
import { type LocalDatabase, startLocalDatabase } from './database.ts';
import { assertPortFree } from './ports.ts';
import { REPO_ROOT, startWorkerProcess, type WorkerProcess } from './worker-process.ts';

export interface DevStack {
  url: string;
  database: LocalDatabase;
  worker: WorkerProcess;
  stop(): Promise<void>;
}

export interface DevStackOptions {
  /** Root of the git-ignored state: embedded Postgres and Durable Object storage persist here. */
  dataDir?: string;
  databaseUrl?: string;
  port?: number;
  postgresPort?: number;
  relayPort?: number;
  /** PgBouncer in transaction mode between the Worker and the server at `databaseUrl` (database.ts). */
  pooled?: boolean;
  inheritOutput?: boolean;
  /** wrangler dev's local observability (worker-process.ts); on unless false. */
  localObservability?: boolean;
  /**
   * Extra Worker vars (`--var`), e.g. a short `INGEST_IDLE_PUSH_MS` for a test that waits on
   * presence; the database and mode vars the stack sets itself win over these.
   */
  vars?: Record<string, string>;
}

/** Everything `pnpm dev` runs: database, relay, migrations, and wrangler dev on one URL. */
export async function startDevStack(options: DevStackOptions = {}): Promise<DevStack> {
  const dataDir = options.dataDir ?? path.join(REPO_ROOT, '.data');
  // Fail on a taken port before spending seconds on the database.
  if (options.port) await assertPortFree(options.port, 'Pulsewire dev server');
  const database = await startLocalDatabase({
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : { dataDir: path.join(dataDir, 'postgres') }),
    ...(options.postgresPort ? { postgresPort: options.postgresPort } : {}),
    ...(options.relayPort ? { relayPort: options.relayPort } : {}),
    ...(options.pooled ? { pooled: true } : {}),
  });
  try {
    const worker = await startWorkerProcess({
      ...(options.port ? { port: options.port } : {}),
      persistTo: path.join(dataDir, 'wrangler'),
      inheritOutput: options.inheritOutput ?? false,
      ...(options.localObservability === false ? { localObservability: false } : {}),
      vars: {
        ...options.vars,
        DATABASE_URL: database.databaseUrl,
        PG_RELAY: database.relayAddress,
        PULSEWIRE_MODE: 'local',
      },
    });
    return {
      url: worker.url,
      database,
      worker,
      async stop() {
        await worker.stop();
        await database.stop();
      },
    };
  } catch (error) {
    await database.stop();
    throw error;
  }
}
