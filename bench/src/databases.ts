import { reachable, type ScratchDatabase, startPgliteScratch, startServerScratch } from '@pulsewire/stack';

/** Where the PostgreSQL server is looked for when DATABASE_URL is not set (CI's second run and this machine). */
export const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/test';

export const DATABASE_KINDS = ['postgres', 'pglite'] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

export interface DatabaseTarget {
  kind: DatabaseKind;
  start(): Promise<ScratchDatabase>;
}

/**
 * The databases the storage and history benchmarks measure, in order: a scratch database on the PostgreSQL
 * server (DATABASE_URL, or 127.0.0.1:5432) when it answers, and the embedded PGlite. `wanted` narrows them.
 */
export async function databaseTargets(
  wanted: readonly DatabaseKind[],
  log: (line: string) => void,
): Promise<DatabaseTarget[]> {
  const targets: DatabaseTarget[] = [];
  if (wanted.includes('postgres')) {
    const serverUrl = process.env.DATABASE_URL || DEFAULT_SERVER_URL;
    if (await reachable(serverUrl)) {
      targets.push({ kind: 'postgres', start: () => startServerScratch(serverUrl, 'pw_bench') });
    } else {
      log(`  no PostgreSQL server at ${new URL(serverUrl).host}: measuring PGlite only (set DATABASE_URL to add one)`);
    }
  }
  if (wanted.includes('pglite')) targets.push({ kind: 'pglite', start: startPgliteScratch });
  return targets;
}
