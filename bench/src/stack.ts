import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { stopChild } from '@pulsewire/stack';

export interface BenchStack {
  url: string;
  /** The stack's process (serve-stack.ts): wrangler, workerd and the embedded Postgres run under it. */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Starts `serve-stack.ts` in a child process on a fresh data folder and waits for its URL. */
export async function startBenchStack(): Promise<BenchStack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-bench-'));
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'serve-stack.ts'), dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    // With BENCH_STACK_LOGS=1 the stack's own output shares stdout: pick the ready line out of it.
    lines.on('line', (line) => {
      if (line.startsWith('{"url":')) resolve((JSON.parse(line) as { url: string }).url);
      else if (process.env.BENCH_STACK_LOGS === '1') console.error(line);
    });
    child.once('exit', (code) => reject(new Error(`the local stack exited (${code}) before it was ready`)));
  });
  return {
    url,
    pid: child.pid,
    async stop() {
      // The stack stops wrangler and Postgres in turn: give it longer than a single process.
      await stopChild(child, 15_000);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
