import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type DevStack, REPO_ROOT, startDevStack } from '@pulsewire/stack';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, until } from './support.ts';

/**
 * "Never lose data": the real agent process enrolls against the local stack, pushes, is stopped, the
 * API becomes unreachable while the agent runs, the agent is killed with SIGKILL during the outage and
 * restarted, the API comes back; every sample the agent collected must reach Postgres exactly once.
 *
 * The agent talks to the stack through a small HTTP proxy owned by this test. The proxy forwards
 * verbatim, except that it (a) can go away entirely (its port closed, open sockets destroyed: the
 * agent sees connection refused / reset, like a real outage) and (b) rewrites the `cadence` of ingest
 * answers to collect every second and push every 2 s, so the test needs seconds rather than the idle
 * 10 s / 30 s. It also records every batch the agent sent.
 *
 * What the agent collected is read from the agent's own durable state while it runs: every sample is
 * appended to `journal/open.jsonl` before anything else, moves to `cut.jsonl`, and goes to `spool/`
 * when a push fails. The test polls those files and the proxy's log; the union is "collected".
 * A second, independent check needs no observation at all: while an agent process runs, it collects
 * on a fixed cadence, so the stored timeline of each run must have no hole wider than that cadence.
 */

const FAST = { collectIntervalMs: 1000, pushIntervalMs: 2000, live: false };
/** A hole in a run's stored timeline wider than this is a lost sample (the idle cadence collects every 10 s). */
const MAX_STEP_MS = { fast: FAST.collectIntervalMs * 2.5, idle: 10_000 * 1.5 };

interface SentBatch {
  batchId: string;
  seq: number;
  ts: number[];
  status: number;
  /** When the answer came back. */
  at: number;
}

/** Forwards to the stack; can be taken down (port closed) and brought back on the same port. */
class OutageProxy {
  readonly sent: SentBatch[] = [];
  #server: http.Server;
  #sockets = new Set<net.Socket>();
  #port = 0;
  readonly #upstream: URL;

  constructor(upstream: string) {
    this.#upstream = new URL(upstream);
    this.#server = this.#create();
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  #create(): http.Server {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => this.#forward(req, Buffer.concat(chunks), res));
    });
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    return server;
  }

  #forward(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const headers = { ...req.headers };
    delete headers['accept-encoding'];
    const upstream = http.request(
      {
        host: this.#upstream.hostname,
        port: this.#upstream.port,
        method: req.method,
        path: req.url,
        headers,
      },
      (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => parts.push(chunk));
        answer.on('end', () => {
          let out = Buffer.concat(parts);
          const status = answer.statusCode ?? 502;
          if (req.url === '/api/v1/ingest' && req.method === 'POST') {
            const raw = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
            const batch = JSON.parse(raw.toString('utf8')) as {
              batch_id: string;
              seq: number;
              samples: { ts: number }[];
            };
            this.sent.push({
              batchId: batch.batch_id,
              seq: batch.seq,
              ts: batch.samples.map((s) => s.ts),
              status,
              at: Date.now(),
            });
            if (status === 200) {
              const json = JSON.parse(out.toString('utf8')) as Record<string, unknown>;
              out = Buffer.from(JSON.stringify({ ...json, cadence: FAST }));
            }
          }
          const outHeaders = { ...answer.headers };
          delete outHeaders['content-length'];
          delete outHeaders['transfer-encoding'];
          delete outHeaders['content-encoding'];
          res.writeHead(status, { ...outHeaders, 'content-length': String(out.length) });
          res.end(out);
        });
      },
    );
    upstream.on('error', () => {
      res.writeHead(502).end();
    });
    upstream.end(body);
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address();
    if (address && typeof address === 'object') this.#port = address.port;
  }

  /** The API becomes unreachable: new connections are refused, open ones are cut. */
  async down(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
    this.#server = this.#create();
  }
}

/** Samples the agent has in its durable state right now: journal lines and spooled batches. */
function samplesOnDisk(stateDir: string): number[] {
  const found: number[] = [];
  for (const name of ['open.jsonl', 'cut.jsonl']) {
    let text = '';
    try {
      text = fs.readFileSync(path.join(stateDir, 'journal', name), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      try {
        const ts = (JSON.parse(line) as { ts?: unknown }).ts;
        if (typeof ts === 'number') found.push(ts);
      } catch {
        // empty or partly written last line
      }
    }
  }
  let spooled: string[] = [];
  try {
    spooled = fs.readdirSync(path.join(stateDir, 'spool')).filter((n) => n.endsWith('.json.gz'));
  } catch {
    // no spool yet
  }
  for (const name of spooled) {
    try {
      const batch = JSON.parse(gunzipSync(fs.readFileSync(path.join(stateDir, 'spool', name))).toString('utf8')) as {
        samples: { ts: number }[];
      };
      for (const s of batch.samples) found.push(s.ts);
    } catch {
      // delivered and deleted between readdir and read
    }
  }
  return found;
}

interface Run {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  startedAt: number;
  endedAt?: number;
}

describe('agent outage: every collected sample reaches Postgres exactly once', () => {
  let stack: DevStack;
  let proxy: OutageProxy;
  let postgres: pg.Client;
  let dataDir: string;
  let agentDir: string;
  let output = '';
  const runs: Run[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(path.join(REPO_ROOT, 'web/build/index.html'))) {
      throw new Error('web/build is missing: run `pnpm build` first (`pnpm test` does)');
    }
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-e2e-outage-'));
    agentDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-e2e-outage-agent-'));
    stack = await startDevStack({ dataDir });
    proxy = new OutageProxy(stack.url);
    await proxy.listen();
    postgres = new pg.Client({ connectionString: stack.database.databaseUrl });
    await postgres.connect();
  });

  afterAll(async () => {
    for (const run of runs) {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
      await run.exited;
    }
    await postgres?.end();
    await proxy?.down();
    await stack?.stop();
    for (const dir of [dataDir, agentDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const config = () => path.join(agentDir, 'agent.json');
  const stateDir = () => path.join(agentDir, 'state');

  function agent(args: string[]): Run {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PULSEWIRE_')));
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'agent/src/cli.ts'), ...args], {
      cwd: REPO_ROOT,
      env: {
        ...clean,
        HOME: agentDir,
        PULSEWIRE_CONFIG: config(),
        PULSEWIRE_STATE_DIR: stateDir(),
        // Other agents may hold the default local intake ports on this machine.
        PULSEWIRE_STATSD: 'off',
        PULSEWIRE_HTTP: 'off',
        PULSEWIRE_DOCKER_SOCKET: '/nonexistent.sock',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tag = `[agent ${args[0]}#${runs.length}] `;
    child.stdout?.on('data', (chunk) => {
      output += tag + chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += tag + chunk;
    });
    const run: Run = {
      child,
      startedAt: Date.now(),
      exited: new Promise((resolve) =>
        child.once('exit', (code, signal) => {
          run.endedAt = Date.now();
          resolve({ code, signal });
        }),
      ),
    };
    return run;
  }

  /** Signs up and verifies through the API and the dev outbox, like the dashboard does, and makes an ingest key. */
  async function ingestKey(): Promise<string> {
    const cookies = new Map<string, string>();
    const call = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${stack.url}${route}`, {
        method,
        headers: {
          Origin: stack.url,
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...(cookies.size ? { Cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      for (const line of res.headers.getSetCookie()) {
        const [pair = ''] = line.split(';');
        const at = pair.indexOf('=');
        if (at > 0) cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1));
      }
      return res;
    };
    const email = `outage-${Date.now()}@example.com`;
    const signup = await call('POST', '/api/v1/auth/signup', {
      email,
      password: 'never lose a sample 1',
      name: 'Outage Owner',
    });
    expect(signup.status).toBe(201);
    // The Worker sends mail after answering, so the outbox may be a moment behind the 201.
    let token: string | undefined;
    await until('the verification mail', async () => {
      const outbox = (await (await call('GET', '/api/v1/dev/outbox')).json()) as {
        messages: { to: string; text: string }[];
      };
      token = /[?&]token=([\w-]+)/.exec(outbox.messages.find((m) => m.to === email)?.text ?? '')?.[1];
      return token !== undefined;
    });
    expect((await call('POST', '/api/v1/auth/verify', { token })).status).toBe(200);
    const created = await call('POST', '/api/v1/keys', { name: 'outage agent', scope: 'ingest' });
    expect(created.status).toBe(201);
    return ((await created.json()) as { secret: string }).secret;
  }

  async function stored(hostId: string): Promise<{ ts: number[]; rows: number }> {
    const { rows } = await postgres.query<{ ts: Date }>('select ts from host_samples where host_id = $1 order by ts', [
      hostId,
    ]);
    return { ts: rows.map((r) => r.ts.getTime()), rows: rows.length };
  }

  it('survives SIGTERM, an outage, SIGKILL during the outage and restarts without losing or doubling a sample', async () => {
    const key = await ingestKey();
    const enrolled = agent(['enroll', '--key', key, '--url', proxy.url, '--name', 'outage-1']);
    expect((await enrolled.exited).code, output).toBe(0);
    const written = JSON.parse(fs.readFileSync(config(), 'utf8')) as { hostId: string; ingestUrl?: string };
    const hostId = written.hostId;
    // The Worker names its own origin as the ingest URL; keep the agent on the proxy.
    fs.writeFileSync(config(), JSON.stringify({ ...written, ingestUrl: `${proxy.url}/api/v1/ingest` }), {
      mode: 0o600,
    });

    const collected = new Set<number>();
    const watch = setInterval(() => {
      for (const ts of samplesOnDisk(stateDir())) collected.add(ts);
    }, 100);
    const accepted = () => proxy.sent.filter((b) => b.status === 200).length;
    try {
      // ── run 1: pushes through the proxy, then a clean stop ──────────────────────────────
      const run1 = agent(['run']);
      runs.push(run1);
      await until('three accepted pushes of run 1', () => accepted() >= 3);
      run1.child.kill('SIGTERM');
      expect((await run1.exited).code, output).toBe(0);

      // ── run 2: back at the fast cadence, then the API goes away under it ───────────────
      const before2 = accepted();
      const run2 = agent(['run']);
      runs.push(run2);
      await until('a push of run 2', () => accepted() > before2 + 1);
      await proxy.down();
      const outageStart = Date.now();
      const failedBefore = output.length;
      // Collects at 1 s and spools for a while (about 5 collections).
      await sleep(5_500);
      expect(output.slice(failedBefore)).toMatch(/push failed/);
      // ── kill -9 during the outage ────────────────────────────────────────────────────────
      // Right after a collection, so the in-progress interval (journaled, not yet cut or spooled) is not empty.
      const openLines = () => {
        try {
          return fs
            .readFileSync(path.join(stateDir(), 'journal', 'open.jsonl'), 'utf8')
            .split('\n')
            .filter(Boolean).length;
        } catch {
          return 0;
        }
      };
      await until('a journaled sample of the interval in progress', () => openLines() > 0, 10_000);
      const atKill = { journal: openLines(), onDisk: samplesOnDisk(stateDir()).length };
      run2.child.kill('SIGKILL');
      expect((await run2.exited).signal).toBe('SIGKILL');

      // ── run 3 starts during the outage (idle cadence: collects now and every 10 s) ────────
      const run3 = agent(['run']);
      runs.push(run3);
      await sleep(11_000);
      const outageMs = Date.now() - outageStart;
      const acceptedDuringOutage = accepted();
      await proxy.listen();
      // ── the API is back: everything spooled and journaled goes out ───────────────────────
      await until('run 3 to deliver after the outage', () => accepted() > acceptedDuringOutage + 2, 60_000);
      await sleep(3_000);
      run3.child.kill('SIGTERM');
      expect((await run3.exited).code, output).toBe(0);
      clearInterval(watch);
      for (const ts of samplesOnDisk(stateDir())) collected.add(ts);
      for (const batch of proxy.sent) for (const ts of batch.ts) collected.add(ts);
      // A clean stop leaves nothing behind (everything delivered).
      expect(samplesOnDisk(stateDir())).toEqual([]);

      // ── compare ─────────────────────────────────────────────────────────────────────────
      const db = await stored(hostId);
      const inDb = new Set(db.ts);
      const missing = [...collected].filter((ts) => !inDb.has(ts)).sort((a, b) => a - b);
      const wire = proxy.sent.flatMap((b) => b.ts);
      const resentOnWire = wire.length - new Set(wire).size;
      const { rows: dup } = await postgres.query<{ n: string }>(
        'select count(*) - count(distinct ts) as n from host_samples where host_id = $1',
        [hostId],
      );

      // Each run's timeline has no hole: one sample per cadence while the process runs. A run collects at the
      // idle cadence (10 s) until its first push is answered with the fast one (run 3: after the outage).
      const restoredAt = outageStart + outageMs;
      const holes: string[] = [];
      for (const [i, run] of runs.entries()) {
        const ts = db.ts.filter((t) => t >= run.startedAt && t <= (run.endedAt ?? Date.now()));
        if (ts.length === 0) holes.push(`run ${i + 1}: nothing stored`);
        const firstAnswer = Math.min(
          ...proxy.sent
            .filter((b) => b.status === 200 && b.at >= Math.max(run.startedAt, run === run3 ? restoredAt : 0))
            .map((b) => b.at),
        );
        for (let k = 1; k < ts.length; k++) {
          const step = (ts[k] ?? 0) - (ts[k - 1] ?? 0);
          const idle = (ts[k - 1] ?? 0) < firstAnswer;
          if (step > (idle ? MAX_STEP_MS.idle : MAX_STEP_MS.fast))
            holes.push(`run ${i + 1}: ${step} ms after ${ts[k - 1]}`);
        }
      }

      const figures = {
        collected: collected.size,
        stored: db.rows,
        duplicatesInDb: Number(dup[0]?.n ?? 0),
        missing: missing.length,
        batchesSent: proxy.sent.length,
        batchesAccepted: accepted(),
        samplesResentOnWire: resentOnWire,
        outageMs,
        collectedDuringOutage: [...collected].filter((t) => t >= outageStart && t < restoredAt).length,
        onDiskAtKill: atKill,
        recoveredFromJournal: Number(/recovered (\d+) samples/.exec(output)?.[1] ?? 0),
        perRun: runs.map((run) => db.ts.filter((t) => t >= run.startedAt && t <= (run.endedAt ?? 0)).length),
      };
      console.log(`agent-outage figures: ${JSON.stringify(figures)}`);

      expect(collected.size).toBeGreaterThan(12);
      expect(figures.recoveredFromJournal).toBeGreaterThan(0);
      expect(figures.duplicatesInDb).toBe(0);
      expect(missing, `lost samples; figures ${JSON.stringify(figures)}\n${output.slice(-4000)}`).toEqual([]);
      expect(holes, JSON.stringify(figures)).toEqual([]);
      // The outage really was one: what was collected during it reached the server only after it ended.
      expect(figures.collectedDuringOutage).toBeGreaterThanOrEqual(5);
      expect(proxy.sent.filter((b) => b.at >= outageStart && b.at < restoredAt)).toEqual([]);
      expect(figures.perRun.every((n) => n > 0)).toBe(true);
    } finally {
      clearInterval(watch);
    }
  }, 180_000);
});
