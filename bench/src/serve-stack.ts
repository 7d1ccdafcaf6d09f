/**
 * The local stack in its own process, so the benchmark's clients do not share an event loop with the
 * embedded Postgres and the relay (or on the Postgres at the URL given second). Prints one JSON line
 * `{ "url": …, "databaseUrl": … }` when ready; stops on SIGTERM.
 */
import { startDevStack } from '@pulsewire/stack';

const [dataDir, databaseUrl] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: serve-stack.ts <data dir> [database url]');
const stack = await startDevStack({
  dataDir,
  ...(databaseUrl ? { databaseUrl } : {}),
  inheritOutput: process.env.BENCH_STACK_LOGS === '1',
});
// The database URL too: the ingest bench's baseline writes into the same Postgres.
process.stdout.write(`${JSON.stringify({ url: stack.url, databaseUrl: stack.database.databaseUrl })}\n`);
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void stack.stop().finally(() => process.exit(0));
  });
}
