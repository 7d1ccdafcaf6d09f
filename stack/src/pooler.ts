import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';
import { reachable } from './scratch-database.ts';
import { stopChild } from './worker-process.ts';

/**
 * The local stand-in for Neon's pooled endpoint (`-pooler` in the host name): PgBouncer in transaction mode in
 * front of a PostgreSQL server, so a connection per Worker request is a cheap client login to PgBouncer and the
 * server's backends stay warm between requests. Debian's `pgbouncer`, started on a free loopback port with a
 * configuration, log and pid file of its own in a temporary folder, removed when it stops.
 */
export interface Pooler {
  /** The server URL with PgBouncer's host and port: same user, same database. */
  url: string;
  pid: number;
  /** `PgBouncer 1.18.0`. */
  version: string;
  stop(): Promise<void>;
}

const PGBOUNCER_PATHS = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'];
/**
 * Server connections per database and user. The benches keep at most 16 requests in flight; Neon sizes its pool
 * from the compute's `max_connections` (far more): either way no request waits for a server connection here.
 */
const POOL_SIZE = 20;
const START_TIMEOUT_MS = 10_000;

/** PgBouncer's executable, or undefined when it is not installed (`apt-get install pgbouncer`). */
export function findPgbouncer(): string | undefined {
  return PGBOUNCER_PATHS.find((candidate) => fs.existsSync(candidate));
}

/** The configuration: every database of the server, logged in as the URL's user; clients are not authenticated. */
export function pgbouncerConfig(server: URL, listenPort: number, dir: string): string {
  const user = decodeURIComponent(server.username || 'postgres');
  const password = server.password ? ` password=${decodeURIComponent(server.password)}` : '';
  return [
    '[databases]',
    `* = host=${server.hostname} port=${server.port || 5432} user=${user}${password}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${listenPort}`,
    // No Unix socket: two poolers (or another session's) must not meet in /tmp.
    'unix_socket_dir =',
    // Loopback only, in front of a trust-auth server; `any` needs the user fixed per database, as above.
    'auth_type = any',
    'pool_mode = transaction',
    `default_pool_size = ${POOL_SIZE}`,
    'max_client_conn = 1000',
    // Drivers' startup options PgBouncer does not track; harmless to drop in transaction mode.
    'ignore_startup_parameters = extra_float_digits,options',
    // A login per Worker request would otherwise write two log lines each.
    'log_connections = 0',
    'log_disconnections = 0',
    `logfile = ${path.join(dir, 'pgbouncer.log')}`,
    `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
    '',
  ].join('\n');
}

/** PgBouncer refuses to run as root: then it switches to `nobody`, who must own its folder. */
function unprivilegedUser(dir: string): string[] {
  if (process.getuid?.() !== 0) return [];
  const uid = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('running as root and no user `nobody`');
  fs.chownSync(dir, uid, gid);
  return ['-u', 'nobody'];
}

/**
 * Starts PgBouncer in transaction mode in front of the server of `serverUrl`; resolves once it accepts
 * connections. Throws when it is not installed (check `findPgbouncer` first) or does not start in 10 s.
 */
export async function startPooler(serverUrl: string): Promise<Pooler> {
  const executable = findPgbouncer();
  if (!executable) throw new Error('pgbouncer is not installed (apt-get install pgbouncer)');
  const server = new URL(serverUrl);
  const version = /PgBouncer [\d.]+/.exec(spawnSync(executable, ['--version'], { encoding: 'utf8' }).stdout)?.[0];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-pgbouncer-'));
  const port = await freePort();
  const config = path.join(dir, 'pgbouncer.ini');
  fs.writeFileSync(config, pgbouncerConfig(server, port, dir), { mode: 0o644 });
  const child = spawn(executable, [...unprivilegedUser(dir), config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const stop = async () => {
    await stopChild(child);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForListening(child, port, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  const url = new URL(serverUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return { url: url.toString(), pid: child.pid as number, version: version ?? 'PgBouncer', stop };
}

async function waitForListening(child: ChildProcess, port: number, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited with code ${child.exitCode}:\n${output()}`);
    if (await reachable(`postgres://127.0.0.1:${port}/`, 500)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`pgbouncer did not listen on 127.0.0.1:${port} within ${START_TIMEOUT_MS / 1000} s:\n${output()}`);
}
