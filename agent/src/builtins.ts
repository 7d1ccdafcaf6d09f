import type ChildProcess from 'node:child_process';
import type Http from 'node:http';
import type Https from 'node:https';
import { createRequire } from 'node:module';
import type Util from 'node:util';

export function load<T>(id: string): T {
  // process.getBuiltinModule: Node ≥ 22.3 and the compiled executable; createRequire for Node 22.0–22.2.
  return ((process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule?.(id) ??
    createRequire(import.meta.url)(id)) as T;
}

/**
 * node:http without an ES import. An `import … from 'node:http'` reads every export of the module, and
 * since Node 22 that includes the lazy `WebSocket` getter, which loads Node's bundled undici, http2 and web
 * streams: ~14 MB resident for an agent that never opens a WebSocket.
 */
export const nodeHttp = (): typeof Http => load('node:http');

/** Loaded when the ingest URL is https (TLS is ~8 MB resident; a plain-http test or stand-in does without). */
export const nodeHttps = (): typeof Https => load('node:https');

/** Loaded when nvidia-smi is first run. */
export const nodeChildProcess = (): typeof ChildProcess => load('node:child_process');

/**
 * node:util without an ES import, for the same reason: its ES wrapper reads every lazy export, loading
 * worker_threads, the diff and colour helpers and more (~1.7 MB resident) where the agent needs parseArgs.
 */
export const nodeUtil = (): typeof Util => load('node:util');
