import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LIVE_CADENCE, Sample } from '@pulsewire/protocol';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_RUN_FLAGS } from '../src/node-tuning.ts';
import { type IngestServer, startIngestServer, until } from '../src/test/ingest-server.ts';
import { runCli, runProgram, tmp } from '../src/test/run-cli.ts';
import { type BundleResult, bundleAgent, packedSysteminformation } from './bundle.ts';

const pkg = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
  version: string;
};

// The bundle is copied where no node_modules can be found: it must carry every dependency.
let bundle: BundleResult;
let server: IngestServer;
beforeAll(async () => {
  bundle = await bundleAgent(path.join(tmp('pw-bundle-'), 'pulsewire-agent.mjs'));
  server = await startIngestServer();
}, 60_000);
afterAll(() => server?.close());

const agent = (args: string[], env: Record<string, string> = {}) =>
  runCli(bundle.outfile, args, env, path.dirname(bundle.outfile));

describe('the single-file agent bundle', () => {
  it('is one executable file with its checksum beside it', () => {
    const contents = readFileSync(bundle.outfile);
    expect(contents.subarray(0, 19).toString()).toBe('#!/usr/bin/env node');
    const sha = createHash('sha256').update(contents).digest('hex');
    expect(readFileSync(`${bundle.outfile}.sha256`, 'utf8')).toBe(`${sha}  pulsewire-agent.mjs\n`);
    expect(bundle.version).toBe(pkg.version);
  });

  it('prints its version and collects a sample that parses with the protocol schema', async () => {
    const version = await agent(['--version']).done;
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    const collected = await agent(['collect', '--once', '--json'], { PULSEWIRE_DOCKER_SOCKET: '/nonexistent.sock' })
      .done;
    expect(collected.stderr).toBe('');
    const sample = Sample.parse(JSON.parse(collected.stdout));
    expect(sample.cpu?.perCore.length).toBeGreaterThan(0);
    expect(sample.memory?.total).toBeGreaterThan(0);
  });

  it('enrolls, names itself as the user ran it, and pushes signed batches', async () => {
    const dir = tmp();
    const config = path.join(dir, 'agent.json');
    const env = {
      PULSEWIRE_CONFIG: config,
      PULSEWIRE_STATE_DIR: path.join(dir, 'state'),
      PULSEWIRE_STATSD: 'off',
      PULSEWIRE_HTTP: 'off',
    };
    const enrolled = await agent(['enroll', '--url', server.url], { ...env, PULSEWIRE_KEY: 'pk_test_key' }).done;
    expect(enrolled.stderr).toBe('');
    expect(enrolled.code).toBe(0);
    expect(enrolled.stdout).toContain('`node pulsewire-agent.mjs run`');
    // The test server signs with its own key pair: give this host that identity.
    const written = JSON.parse(readFileSync(config, 'utf8'));
    writeFileSync(config, JSON.stringify({ ...written, ...server.keys }), { mode: 0o600 });

    const unitPath = path.join(dir, 'pulsewire-agent.service');
    const installed = await agent(['install-service', '--unit-path', unitPath], env).done;
    expect(installed.code).toBe(0);
    const unit = readFileSync(unitPath, 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} ${NODE_RUN_FLAGS.join(' ')} ${bundle.outfile} run --config`);
    expect(unit).toContain('\nEnvironment=MALLOC_MMAP_THRESHOLD_=32768\n');

    server.setCadence(LIVE_CADENCE);
    const running = agent(['run'], env);
    await until(() => server.received.length >= 2, 'two batches from the bundled agent');
    if (process.platform === 'linux' && typeof (process as { execve?: unknown }).execve === 'function') {
      // Started plainly, it replaced itself with the tuned agent under the same pid (node-tuning.ts).
      const pid = running.child.pid as number;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(cmdline.slice(0, NODE_RUN_FLAGS.length + 3)).toEqual([
        process.execPath,
        ...NODE_RUN_FLAGS,
        bundle.outfile,
        'run',
      ]);
      expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).toContain('MALLOC_MMAP_THRESHOLD_=32768');
    }
    // The control socket over node:http's upgrade (the live view's "go live" channel).
    await until(() => server.control.attempts.some((a) => a.status === 101), 'the control socket');
    // Stored batches go over it once it is open, acked by the stand-in after the same checks as a push.
    await until(
      () => server.requests.some((r) => r.via === 'control' && r.status === 200),
      'a batch over the control socket',
    );
    running.child.kill('SIGTERM');
    expect((await running.done).code).toBe(0);
    await until(() => server.control.closedByAgent.length > 0, 'the control socket closed on shutdown');
    expect(server.control.closedByAgent).toEqual([1000]);
    expect(server.violations).toEqual([]);
    const samples = server.received.flatMap((batch) => batch.samples);
    expect(samples.every((sample) => sample.memory !== undefined)).toBe(true);
  });

  it('carries systeminformation packed, and unpacks it when first imported', async () => {
    const dir = tmp('pw-bundle-si-');
    const entry = path.join(dir, 'entry.ts');
    writeFileSync(
      entry,
      [
        `import { systeminformation } from ${JSON.stringify(path.join(import.meta.dirname, '..', 'src', 'collectors', 'si.ts'))};`,
        'const si = await systeminformation();',
        'const [os, time] = await Promise.all([si.osInfo(), si.time()]);',
        'console.log(JSON.stringify({ platform: os.platform, uptime: time.uptime }));',
      ].join('\n'),
    );
    const outfile = path.join(dir, 'si.mjs');
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      plugins: [packedSysteminformation],
      logLevel: 'warning',
    });
    const code = readFileSync(outfile, 'utf8');
    // A vendor name from its Bluetooth table: in the bundle only compressed.
    expect(code).not.toContain('Ericsson Technology Licensing');
    const result = await runProgram([process.execPath, outfile], [], {}, dir).done;
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({ platform: process.platform, uptime: expect.any(Number) });
  });
});
