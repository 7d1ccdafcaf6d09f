import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.ts';
import { migrateDatabase } from './migrate.ts';
import { type Pooler, startPooler } from './pooler.ts';
import { type Relay, startRelay } from './relay.ts';

export interface LocalDatabase {
  /** What the Worker's `DATABASE_URL` should be (the pooler's, when there is one). */
  databaseUrl: string;
  /** The database itself, never through the pooler: for migrations and measurements beside the Worker. */
  directUrl: string;
  /** PgBouncer in front of the server, when `pooled` asked for it. */
  pooler?: Pooler;
  /** What the Worker's `PG_RELAY` should be. */
  relayAddress: string;
  /** `embedded` (PGlite) or `external` (DATABASE_URL was given). */
  kind: 'embedded' | 'external';
  stop(): Promise<void>;
}

export interface LocalDatabaseOptions {
  /** Use this Postgres instead of the embedded one. */
  databaseUrl?: string;
  /** Where the embedded database persists; omitted means in memory. */
  dataDir?: string;
  postgresPort?: number;
  relayPort?: number;
  /**
   * Put a transaction-mode PgBouncer between the Worker and the server at `databaseUrl`, as production's
   * DATABASE_URL points at Neon's pooled endpoint (pooler.ts). Only with `databaseUrl`.
   */
  pooled?: boolean;
}

/** Postgres (embedded unless a URL is given), the relay in front of it, and migrations applied. */
export async function startLocalDatabase(options: LocalDatabaseOptions = {}): Promise<LocalDatabase> {
  let embedded: EmbeddedPostgres | undefined;
  let relay: Relay | undefined;
  let pooler: Pooler | undefined;
  if (options.pooled && !options.databaseUrl) throw new Error('a pooler needs a PostgreSQL server (databaseUrl)');
  try {
    if (!options.databaseUrl) {
      embedded = await startEmbeddedPostgres({
        ...(options.dataDir ? { dataDir: options.dataDir } : {}),
        ...(options.postgresPort ? { port: options.postgresPort } : {}),
      });
    }
    const databaseUrl = options.databaseUrl ?? (embedded as EmbeddedPostgres).url;
    await migrateDatabase(databaseUrl);
    if (options.pooled) pooler = await startPooler(databaseUrl);
    relay = await startRelay(options.relayPort ? { port: options.relayPort } : {});
    const started = { relay, pooler };
    return {
      databaseUrl: pooler?.url ?? databaseUrl,
      directUrl: databaseUrl,
      ...(pooler ? { pooler } : {}),
      relayAddress: relay.address,
      kind: embedded ? 'embedded' : 'external',
      async stop() {
        await started.relay.stop();
        await started.pooler?.stop();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await relay?.stop();
    await pooler?.stop();
    await embedded?.stop();
    throw error;
  }
}
