/**
 * The local stack in its own process, so the benchmark's clients do not share an event loop with the
 * embedded Postgres and the relay. Prints one JSON line `{ "url": … }` when ready; stops on SIGTERM.
 */
import { startDevStack } from '@pulsewire/stack';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: serve-stack.ts <data dir>');
const stack = await startDevStack({ dataDir, inheritOutput: process.env.BENCH_STACK_LOGS === '1' });
process.stdout.write(`${JSON.stringify({ url: stack.url })}\n`);
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void stack.stop().finally(() => process.exit(0));
  });
}
