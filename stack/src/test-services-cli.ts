/**
 * Runs the test database service as its own Node process and prints `{"url","relayAddress","kind"}`
 * as one JSON line once ready. Test runners whose module loader would rewrite Node packages for
 * another runtime (workerd's resolve conditions) start this instead of importing the service.
 * It stops when stdin closes or on SIGTERM, so it cannot outlive its parent.
 */
import { startTestDatabaseService } from './test-databases.ts';

const service = await startTestDatabaseService(
  process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {},
);
process.stdout.write(
  `${JSON.stringify({ url: service.url, relayAddress: service.relayAddress, kind: service.kind })}\n`,
);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await service.stop();
  process.exit(0);
}
process.stdin.on('end', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
