import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { stopChild } from '@pulsewire/stack';
import { z } from 'zod';

export interface BenchStack {
  url: string;
  /** The Postgres the Worker writes to (the embedded PGlite's, or the one given). */
  databaseUrl: string;
  /** The stack's process: wrangler, workerd and the embedded Postgres (or PgBouncer) run in its tree. */
  pid: number;
  /** wrangler's inspector proxy, for a CPU profile of the Worker's isolate (ingest-profile.ts). */
  inspectorPort: number;
  /** `PgBouncer 1.18.0` when the Worker reaches the database through the local pooler. */
  pooler?: string;
  stop(): Promise<void>;
}

const Ready = z.object({
  url: z.string(),
  databaseUrl: z.string(),
  inspectorPort: z.number(),
  pooler: z.string().optional(),
});

/**
 * Starts `serve-stack.ts` in a child process on a fresh data folder and waits for its URL; on the embedded
 * PGlite unless `databaseUrl` names a (migrated or empty) Postgres database, which `pooled` puts behind a local
 * PgBouncer in transaction mode (the stand-in for Neon's pooled endpoint).
 */
export async function startBenchStack(options: { databaseUrl?: string; pooled?: boolean } = {}): Promise<BenchStack> {
  if (options.pooled && !options.databaseUrl) throw new Error('the pooler needs a PostgreSQL server');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-bench-'));
  const args = [path.join(import.meta.dirname, 'serve-stack.ts'), dataDir];
  if (options.databaseUrl) args.push(options.databaseUrl);
  if (options.pooled) args.push('pooled');
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise<z.infer<typeof Ready>>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    // With BENCH_STACK_LOGS=1 the stack's own output shares stdout: pick the ready line out of it.
    lines.on('line', (line) => {
      if (line.startsWith('{"url":')) resolve(Ready.parse(JSON.parse(line)));
      else if (process.env.BENCH_STACK_LOGS === '1') console.error(line);
    });
    child.once('exit', (code) => {
      // A stack that never got ready leaves its data folder (the embedded Postgres starts before wrangler).
      fs.rmSync(dataDir, { recursive: true, force: true });
      reject(new Error(`the local stack exited (${code}) before it was ready`));
    });
  });
  return {
    url: ready.url,
    databaseUrl: ready.databaseUrl,
    pid: child.pid as number,
    inspectorPort: ready.inspectorPort,
    ...(ready.pooler ? { pooler: ready.pooler } : {}),
    async stop() {
      // The stack stops wrangler and Postgres in turn: give it longer than a single process.
      await stopChild(child, 15_000);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
