import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Sample } from '@pulsewire/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { dockerCollector } from './docker.ts';
import { SourceAbsentError } from './types.ts';

const WEB_ID = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';
const DB_ID = 'ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100';

const list = [
  {
    Id: WEB_ID,
    Names: ['/shop-web-1'],
    Image: 'nginx:1.27',
    State: 'running',
    Status: 'Up 2 hours',
    Labels: { 'com.docker.compose.service': 'web', 'com.docker.compose.project': 'shop' },
  },
  { Id: DB_ID, Names: ['/old-db'], Image: 'postgres:16', State: 'exited', Labels: {} },
];

// Shaped like Docker 27's one-shot stats on cgroup v2: no previous reading, so the collector keeps its own.
function stats(totalUsage: number, systemUsage: number) {
  return {
    read: '2026-01-01T00:00:00Z',
    pids_stats: { current: 7 },
    cpu_stats: { cpu_usage: { total_usage: totalUsage }, system_cpu_usage: systemUsage, online_cpus: 4 },
    precpu_stats: { cpu_usage: { total_usage: 0 } },
    memory_stats: { usage: 150_000_000, limit: 2_000_000_000, stats: { inactive_file: 50_000_000, anon: 90_000_000 } },
    networks: { eth0: { rx_bytes: 1000, tx_bytes: 2000 }, eth1: { rx_bytes: 10, tx_bytes: 20 } },
  };
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

async function fakeDocker() {
  const socketPath = path.join(mkdtempSync(path.join(tmpdir(), 'pw-docker-')), 'docker.sock');
  const requested: string[] = [];
  let round = 0;
  const server = http.createServer((req, res) => {
    requested.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/json');
    if (req.url === '/containers/json?all=true') {
      round++;
      res.end(JSON.stringify(list));
    } else if (req.url === `/containers/${WEB_ID}/stats?stream=false&one-shot=true`) {
      // Between the two rounds the container used 2e8 ns of CPU while the host counted 1e9 ns.
      res.end(JSON.stringify(round === 1 ? stats(1e9, 1e11) : stats(1.2e9, 1.01e11)));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ message: 'no such container' }));
    }
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { socketPath, requested };
}

describe('Docker collector', () => {
  it('asks the Engine API over its unix socket and maps containers and their stats', async () => {
    const docker = await fakeDocker();
    const collector = dockerCollector(docker.socketPath);
    const first = await collector.collect(0);
    const second = await collector.collect(1000);
    await collector.close?.();

    expect(docker.requested).toEqual([
      'GET /containers/json?all=true',
      `GET /containers/${WEB_ID}/stats?stream=false&one-shot=true`,
      'GET /containers/json?all=true',
      `GET /containers/${WEB_ID}/stats?stream=false&one-shot=true`,
    ]);
    const web = {
      id: 'a1b2c3d4e5f6',
      name: 'shop-web-1',
      image: 'nginx:1.27',
      state: 'running',
      composeService: 'web',
      memUsed: 100_000_000,
      memLimit: 2_000_000_000,
      netRx: 1010,
      netTx: 2020,
      pids: 7,
    };
    const db = { id: 'ffeeddccbbaa', name: 'old-db', image: 'postgres:16', state: 'exited' };
    // The first round has no previous CPU reading: no cpuPct rather than a made-up one.
    expect(first?.containers).toEqual([web, db]);
    // 2e8 / 1e9 × 4 cores × 100 = 80 % of one core.
    expect(second?.containers).toEqual([{ ...web, cpuPct: 80 }, db]);
    expect(Sample.safeParse({ ts: Date.now(), ...second }).success).toBe(true);
  });

  it('reports a missing socket as an absent source', async () => {
    const missing = path.join(mkdtempSync(path.join(tmpdir(), 'pw-docker-')), 'nothing.sock');
    await expect(dockerCollector(missing).collect(0)).rejects.toBeInstanceOf(SourceAbsentError);
  });
});
