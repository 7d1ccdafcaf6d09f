/**
 * The local stack in its own process, so the benchmark's clients do not share an event loop with the
 * embedded Postgres and the relay (or on the Postgres at the URL given second; `pooled` third puts PgBouncer in
 * transaction mode between the Worker and it, as Neon's pooled endpoint). Prints one JSON line
 * `{ "url": …, "databaseUrl": …, "pooler"?: … }` when ready; stops on SIGTERM.
 */
import { startDevStack } from '@pulsewire/stack';

const [dataDir, databaseUrl, pooled] = process.argv.slice(2);
if (!dataDir || (pooled && pooled !== 'pooled'))
  throw new Error('usage: serve-stack.ts <data dir> [database url [pooled]]');
const stack = await startDevStack({
  dataDir,
  ...(databaseUrl ? { databaseUrl } : {}),
  ...(pooled ? { pooled: true } : {}),
  inheritOutput: process.env.BENCH_STACK_LOGS === '1',
  // Measure the Worker, not wrangler dev's trace store of every invocation (BENCH_LOCAL_OBSERVABILITY=1 keeps it).
  localObservability: process.env.BENCH_LOCAL_OBSERVABILITY === '1',
});
// The database itself, never the pooler: the ingest bench's baseline writes into the same Postgres.
const pooler = stack.database.pooler;
process.stdout.write(
  `${JSON.stringify({
    url: stack.url,
    databaseUrl: stack.database.directUrl,
    inspectorPort: stack.worker.inspectorPort,
    ...(pooler ? { pooler: pooler.version } : {}),
  })}\n`,
);
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void stack.stop().finally(() => process.exit(0));
  });
}
