import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CreatedApiKey } from '@pulsewire/protocol';
import { type DevStack, startDevStack } from '@pulsewire/stack';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedUp } from './hostile.ts';
import { type AgentProcess, runAgent, stopAgent, until } from './support.ts';

/**
 * Issue #11 item 1 retried with the real agent process: something between the agent and Pulsewire (a
 * proxy, a WAF) answers one push with its own HTML 403 page. The agent must not take that for the
 * server's revocation (which exits with 3, a status its unit is told not to restart on): it keeps
 * running and collecting, keeps the refused batch, and delivers it.
 */

/** Collect every second, push every 2 s: the test needs seconds, not the idle 10 s / 30 s. */
const FAST = { collectIntervalMs: 1000, pushIntervalMs: 2000, live: false };
const WAF_PAGE = '<html><head><title>403 Forbidden</title></head><body><h1>Access denied</h1></body></html>';

interface Push {
  seq: number;
  ts: number[];
  status: number;
}

/** Forwards to the stack, except the `refuse`-th ingest push, which it answers itself with an HTML 403. */
class WafProxy {
  readonly pushes: Push[] = [];
  readonly #server: http.Server;
  readonly #upstream: URL;
  readonly #refuse: number;

  constructor(upstream: string, refuse: number) {
    this.#upstream = new URL(upstream);
    this.#refuse = refuse;
    this.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => this.#handle(req, Buffer.concat(chunks), res));
    });
  }

  url = '';

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    if (address && typeof address === 'object') this.url = `http://127.0.0.1:${address.port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const ingest = req.method === 'POST' && req.url === '/api/v1/ingest';
    let push: Push | undefined;
    if (ingest) {
      const raw = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
      const batch = JSON.parse(raw.toString('utf8')) as { seq: number; samples: { ts: number }[] };
      push = { seq: batch.seq, ts: batch.samples.map((s) => s.ts), status: 0 };
      this.pushes.push(push);
      if (this.pushes.length === this.#refuse) {
        push.status = 403;
        res.writeHead(403, { 'content-type': 'text/html; charset=utf-8' }).end(WAF_PAGE);
        return;
      }
    }
    const headers = { ...req.headers };
    delete headers['accept-encoding'];
    const upstream = http.request(
      { host: this.#upstream.hostname, port: this.#upstream.port, method: req.method, path: req.url, headers },
      (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => parts.push(chunk));
        answer.on('end', () => {
          let out = Buffer.concat(parts);
          const status = answer.statusCode ?? 502;
          if (push) {
            push.status = status;
            if (status === 200) {
              out = Buffer.from(JSON.stringify({ ...JSON.parse(out.toString('utf8')), cadence: FAST }));
            }
          }
          const outHeaders = { ...answer.headers };
          delete outHeaders['content-length'];
          delete outHeaders['transfer-encoding'];
          delete outHeaders['content-encoding'];
          res.writeHead(status, { ...outHeaders, 'content-length': String(out.length) }).end(out);
        });
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    upstream.end(body);
  }
}

/** Sample timestamps of the batches the agent keeps in its spool. */
function spooled(stateDir: string): number[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(path.join(stateDir, 'spool')).filter((n) => n.endsWith('.json.gz'));
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    try {
      const text = gunzipSync(fs.readFileSync(path.join(stateDir, 'spool', name))).toString('utf8');
      return (JSON.parse(text) as { samples: { ts: number }[] }).samples.map((s) => s.ts);
    } catch {
      return []; // sent and deleted between readdir and read
    }
  });
}

describe('the real agent behind a proxy that answers an HTML 403 (issue #11, item 1)', () => {
  let stack: DevStack;
  let proxy: WafProxy;
  let postgres: pg.Client;
  let dataDir: string;
  let home: string;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-e2e-hardening-agent-'));
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-e2e-hardening-agent-home-'));
    stack = await startDevStack({ dataDir });
    proxy = new WafProxy(stack.url, 2);
    await proxy.listen();
    postgres = new pg.Client({ connectionString: stack.database.databaseUrl });
    await postgres.connect();
  });

  afterAll(async () => {
    for (const agent of agents) await stopAgent(agent, 2_000);
    await postgres?.end();
    await proxy?.close();
    await stack?.stop();
    for (const dir of [dataDir, home]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps running and collecting after the 403, keeps the refused batch, and delivers it', async () => {
    const { api } = await signedUp(stack.url, 'waf');
    const key = CreatedApiKey.parse(await api.expect('POST', '/keys', { name: 'agents', scope: 'ingest' }, 201));
    const keyFile = path.join(home, 'ingest.key');
    fs.writeFileSync(keyFile, `${key.secret}\n`, { mode: 0o600 });
    const enrolled = runAgent(home, ['enroll', '--key-file', keyFile, '--url', stack.url, '--name', 'behind-waf']);
    agents.push(enrolled);
    expect((await enrolled.exited).code, enrolled.output()).toBe(0);
    // The Worker names its own origin as the ingest URL; this machine reaches it through the proxy.
    const configPath = path.join(home, 'agent.json');
    const config = JSON.parse(fs.readFileSync(configPath, 'utf8')) as { hostId: string };
    fs.writeFileSync(configPath, JSON.stringify({ ...config, ingestUrl: `${proxy.url}/api/v1/ingest` }), {
      mode: 0o600,
    });
    const stateDir = path.join(home, 'state');

    const first = runAgent(home, ['run']);
    agents.push(first);
    await until('the proxy to refuse a push with its HTML 403', () => proxy.pushes.some((p) => p.status === 403));
    const refused = proxy.pushes.find((p) => p.status === 403) as Push;
    const refusedAt = Math.max(...refused.ts);
    // Still running: it goes on collecting after the refusal, and keeps what it cuts in the spool.
    await until('samples collected after the 403 in the spool', () => {
      if (first.child.exitCode !== null)
        throw new Error(`the agent exited (${first.child.exitCode}):\n${first.output()}`);
      return new Set(spooled(stateDir).filter((ts) => ts > refusedAt)).size >= 2;
    });
    expect(first.output()).toMatch(/ingest answered 403 .*without revoking this host/);
    expect(first.output()).not.toMatch(/was revoked/);
    first.child.kill('SIGTERM');
    expect((await first.exited).code, first.output()).toBe(0);

    // Started again (by its unit, or by hand): what was refused and kept goes out.
    const kept = spooled(stateDir);
    expect(kept).toEqual(expect.arrayContaining(refused.ts));
    const second = runAgent(home, ['run']);
    agents.push(second);
    const stored = async () => {
      const { rows } = await postgres.query<{ ts: Date }>('select ts from host_samples where host_id = $1', [
        config.hostId,
      ]);
      return new Set(rows.map((r) => r.ts.getTime()));
    };
    await until('the refused and kept samples to be stored', async () => {
      const inDb = await stored();
      return kept.every((ts) => inDb.has(ts));
    });
    await stopAgent(second);
    expect(proxy.pushes.filter((p) => p.status === 403)).toHaveLength(1);
    expect(proxy.pushes.filter((p) => p.status !== 200 && p.status !== 403)).toEqual([]);
  });
});
