/**
 * The agent benchmark's peers, from Debian: Prometheus' node_exporter (`prometheus-node-exporter`) and Netdata
 * (`netdata`), each started by the bench on 127.0.0.1 and a free port, in the foreground as our child, and
 * stopped at the end. Netdata gets a config, cache, lib and log folder of its own under a temporary folder, its
 * registry and cloud link off and `VIRTUALIZATION=none`, so it writes nothing global and probes no outside
 * address; everything else (collectors, health checks, 1 s updates) is as the package ships it.
 * When a peer is not installed or does not start, `start` says why and the bench goes on without it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, stopChild } from '@pulsewire/stack';
import { descendants, listProcesses } from './proc-tree.ts';

export interface Peer {
  name: string;
  pid: number;
  /** What one cycle is for this peer: a scrape, or a second of Netdata's collection. */
  cycle: string;
  url: string;
  version: string;
  stop(): Promise<void>;
}

export type Started = { peer: Peer } | { missing: string };

const which = (candidates: readonly string[]): string | undefined =>
  candidates.find((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

/** Polls `url` (bounded: `tries` × 250 ms) until it answers 200. */
async function answers(url: string, child: ChildProcess, tries = 120): Promise<boolean> {
  for (let i = 0; i < tries && child.exitCode === null; i++) {
    const res = await fetch(url).catch(() => undefined);
    if (res?.ok) {
      await res.text();
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

const versionOf = (binary: string, args: string[]): Promise<string> =>
  new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.stderr?.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(out.split('\n')[0]?.trim() ?? '?');
    });
  });

export async function startNodeExporter(): Promise<Started> {
  const binary = which(['/usr/bin/prometheus-node-exporter', '/usr/local/bin/node_exporter', '/usr/bin/node_exporter']);
  if (!binary) return { missing: 'node_exporter is not installed (Debian: apt-get install prometheus-node-exporter)' };
  const port = await freePort();
  const child = spawn(binary, [`--web.listen-address=127.0.0.1:${port}`, '--log.level=error'], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/metrics`;
  if (!(await answers(url, child))) {
    await stopChild(child, 5_000);
    return { missing: `node_exporter (${binary}) did not answer on ${url}` };
  }
  return {
    peer: {
      name: 'node_exporter',
      pid: child.pid as number,
      cycle: 'scrape',
      url,
      version: await versionOf(binary, ['--version']),
      stop: () => stopChild(child, 5_000),
    },
  };
}

export async function startNetdata(): Promise<Started> {
  const binary = which(['/usr/sbin/netdata', '/usr/bin/netdata']);
  if (!binary) return { missing: 'Netdata is not installed (Debian: apt-get install netdata)' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-bench-netdata-'));
  for (const sub of ['etc', 'cache', 'lib', 'log']) fs.mkdirSync(path.join(dir, sub));
  const port = await freePort();
  const stock = ['/usr/lib/netdata/conf.d', '/usr/share/netdata/conf.d'].find((d) => fs.existsSync(d));
  const config = path.join(dir, 'etc', 'netdata.conf');
  fs.writeFileSync(
    config,
    [
      '[global]',
      // As whoever runs the bench: Netdata would otherwise switch to its own user, which cannot write here.
      `    run as user = ${os.userInfo().username}`,
      '[directories]',
      `    config = ${path.join(dir, 'etc')}`,
      ...(stock ? [`    stock config = ${stock}`] : []),
      `    cache = ${path.join(dir, 'cache')}`,
      `    lib = ${path.join(dir, 'lib')}`,
      `    home = ${path.join(dir, 'lib')}`,
      `    log = ${path.join(dir, 'log')}`,
      '[logs]',
      '    debug log = none',
      `    error log = ${path.join(dir, 'log', 'error.log')}`,
      '    access log = none',
      '[web]',
      `    bind to = 127.0.0.1:${port}`,
      '[registry]',
      '    enabled = no',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(dir, 'etc', 'cloud.conf'), '[global]\n    enabled = no\n');
  const child = spawn(binary, ['-D', '-c', config, '-P', path.join(dir, 'netdata.pid')], {
    env: { ...process.env, VIRTUALIZATION: 'none', DO_NOT_TRACK: '1' },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}/api/v1/info`;
  const stop = async () => {
    // Netdata stops its plugins on SIGTERM; any of its tree still there afterwards (by pid and name) is killed.
    const tree = child.pid ? descendants(child.pid, listProcesses()) : [];
    await stopChild(child, 10_000);
    const alive = new Map(listProcesses().map((p) => [p.pid, p.comm]));
    for (const p of tree) {
      if (p.pid !== child.pid && alive.get(p.pid) === p.comm) process.kill(p.pid, 'SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  if (!(await answers(url, child))) {
    await stop();
    return { missing: `Netdata (${binary}) did not answer on ${url}` };
  }
  return {
    peer: {
      name: 'Netdata',
      pid: child.pid as number,
      cycle: 'second',
      url,
      version: await versionOf(binary, ['-v']),
      stop,
    },
  };
}
