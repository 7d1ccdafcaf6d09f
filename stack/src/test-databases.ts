import http from 'node:http';
import pg from 'pg';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.ts';
import { migrateDatabase } from './migrate.ts';
import { type Relay, startRelay } from './relay.ts';

/**
 * Hands each test file a database of its own, already migrated: a fresh PGlite restored from a
 * migrated template by default, or a database cloned from a migrated template database on the
 * Postgres server at `databaseUrl`. Tests inside workerd reach it with one HTTP call
 * (`POST /databases`), since the Workers runtime cannot start processes itself.
 */
export interface TestDatabaseService {
  /** Base URL of the provisioning endpoint. */
  url: string;
  relayAddress: string;
  kind: 'embedded' | 'external';
  create(): Promise<string>;
  stop(): Promise<void>;
}

interface Provider {
  create(): Promise<string>;
  stop(): Promise<void>;
}

async function embeddedProvider(): Promise<Provider> {
  const template = await startEmbeddedPostgres();
  await migrateDatabase(template.url);
  const snapshot = await template.db.dumpDataDir('none');
  await template.stop();
  const instances: EmbeddedPostgres[] = [];
  return {
    async create() {
      const instance = await startEmbeddedPostgres({ loadDataDir: snapshot });
      instances.push(instance);
      return instance.url;
    },
    async stop() {
      await Promise.allSettled(instances.map((instance) => instance.stop()));
    },
  };
}

async function externalProvider(baseUrl: string): Promise<Provider> {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  admin.on('notice', () => {});
  const prefix = `pw_test_${process.pid}_${Date.now().toString(36)}`;
  const template = `${prefix}_template`;
  const urlFor = (name: string) => {
    const url = new URL(baseUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  await admin.query(`create database ${template}`);
  await migrateDatabase(urlFor(template));
  const created: string[] = [template];
  let counter = 0;
  return {
    async create() {
      const name = `${prefix}_${++counter}`;
      await admin.query(`create database ${name} template ${template}`);
      created.push(name);
      return urlFor(name);
    },
    async stop() {
      for (const name of created.reverse()) {
        await admin.query(`drop database if exists ${name} with (force)`).catch(() => {});
      }
      await admin.end();
    },
  };
}

export async function startTestDatabaseService(options: { databaseUrl?: string } = {}): Promise<TestDatabaseService> {
  const provider = options.databaseUrl ? await externalProvider(options.databaseUrl) : await embeddedProvider();
  let relay: Relay | undefined;
  try {
    relay = await startRelay();
  } catch (error) {
    await provider.stop();
    throw error;
  }
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/databases') {
      res.writeHead(404).end();
      return;
    }
    provider.create().then(
      (databaseUrl) => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ databaseUrl })),
      (error: unknown) =>
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(error) })),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const startedRelay = relay;
  return {
    url: `http://127.0.0.1:${port}`,
    relayAddress: relay.address,
    kind: options.databaseUrl ? 'external' : 'embedded',
    create: () => provider.create(),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await startedRelay.stop();
      await provider.stop();
    },
  };
}
