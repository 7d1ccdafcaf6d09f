import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.ts';
import { migrateDatabase } from './migrate.ts';
import { type Relay, startRelay } from './relay.ts';

export interface LocalDatabase {
  /** What the Worker's `DATABASE_URL` should be. */
  databaseUrl: string;
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
}

/** Postgres (embedded unless a URL is given), the relay in front of it, and migrations applied. */
export async function startLocalDatabase(options: LocalDatabaseOptions = {}): Promise<LocalDatabase> {
  let embedded: EmbeddedPostgres | undefined;
  let relay: Relay | undefined;
  try {
    if (!options.databaseUrl) {
      embedded = await startEmbeddedPostgres({
        ...(options.dataDir ? { dataDir: options.dataDir } : {}),
        ...(options.postgresPort ? { port: options.postgresPort } : {}),
      });
    }
    const databaseUrl = options.databaseUrl ?? (embedded as EmbeddedPostgres).url;
    await migrateDatabase(databaseUrl);
    relay = await startRelay(options.relayPort ? { port: options.relayPort } : {});
    const started = relay;
    return {
      databaseUrl,
      relayAddress: relay.address,
      kind: embedded ? 'embedded' : 'external',
      async stop() {
        await started.stop();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await relay?.stop();
    await embedded?.stop();
    throw error;
  }
}
