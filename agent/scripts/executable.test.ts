import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { LIVE_CADENCE, Sample } from '@pulsewire/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngestServer, startIngestServer, until } from '../src/test/ingest-server.ts';
import { runProgram, tmp } from '../src/test/run-cli.ts';
import { buildExecutables, type ExecutableResult, hostTarget } from './executable.ts';

const pkg = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
  version: string;
};
const target = hostTarget();

// The executable runs with a PATH that holds nothing at all, so no node (nor anything else) can be found.
let built: ExecutableResult;
let server: IngestServer;
let emptyPath: string;
beforeAll(async () => {
  if (!target) return;
  [built] = (await buildExecutables([target], tmp('pw-executable-'))) as [ExecutableResult];
  server = await startIngestServer();
  emptyPath = path.join(tmp(), 'empty-bin');
  mkdirSync(emptyPath);
}, 120_000);
afterAll(() => server?.close());

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const agent = (args: string[], env: Record<string, string> = {}) =>
  runProgram([built.outfile], args, { PATH: emptyPath, ...env }, path.dirname(built.outfile));

describe.runIf(target)('the self-contained executable', () => {
  it('is one file with its checksum beside it', () => {
    const contents = readFileSync(built.outfile);
    expect(contents.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    const sha = createHash('sha256').update(contents).digest('hex');
    expect(readFileSync(`${built.outfile}.sha256`, 'utf8')).toBe(`${sha}  pulsewire-agent-${target}\n`);
    expect(built.version).toBe(pkg.version);
  });

  it('prints its version and collects a sample with no node on its PATH', async () => {
    // Bun's standalone executables read these from the working folder unless built not to: ours must not.
    writeFileSync(path.join(path.dirname(built.outfile), '.env'), 'PULSEWIRE_LOG_LEVEL=not-a-level\n');
    writeFileSync(path.join(path.dirname(built.outfile), 'bunfig.toml'), '[this is not toml\n');
    const version = await agent(['--version']).done;
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    const collected = await agent(['collect', '--once', '--json'], { PULSEWIRE_DOCKER_SOCKET: '/nonexistent.sock' })
      .done;
    expect(collected.stderr).toBe('');
    const sample = Sample.parse(JSON.parse(collected.stdout));
    expect(sample.cpu?.perCore.length).toBeGreaterThan(0);
    expect(sample.memory?.total).toBeGreaterThan(0);
    expect(sample.disks?.length).toBeGreaterThan(0);
  });

  it('enrolls, names itself, installs a unit that runs itself, and pushes signed batches with local intake', async () => {
    const dir = tmp();
    const config = path.join(dir, 'agent.json');
    const [statsdPort, httpPort] = [await freePort(), await freePort()];
    const env = {
      PULSEWIRE_CONFIG: config,
      PULSEWIRE_STATE_DIR: path.join(dir, 'state'),
      PULSEWIRE_STATSD: `127.0.0.1:${statsdPort}`,
      PULSEWIRE_HTTP: `127.0.0.1:${httpPort}`,
    };
    // The key through the environment, as the onboarding page passes it (never on the command line).
    const enrolled = await agent(['enroll', '--url', server.url], { ...env, PULSEWIRE_KEY: 'pk_test_key' }).done;
    expect(enrolled.stderr).toBe('');
    expect(enrolled.code).toBe(0);
    expect(enrolled.stdout).toContain(`\`./pulsewire-agent-${target} run\``);
    expect(server.enrollments.at(-1)?.facts.cores).toBeGreaterThan(0);
    // The test server signs with its own key pair: give this host that identity.
    const written = JSON.parse(readFileSync(config, 'utf8'));
    writeFileSync(config, JSON.stringify({ ...written, ...server.keys }), { mode: 0o600 });

    const unitPath = path.join(dir, 'pulsewire-agent.service');
    const installed = await agent(['install-service', '--unit-path', unitPath], env).done;
    expect(installed.code).toBe(0);
    expect(readFileSync(unitPath, 'utf8')).toContain(`ExecStart=${built.outfile} run --config ${config}\n`);

    server.setCadence(LIVE_CADENCE);
    const running = agent(['run'], env);
    await until(() => server.received.length >= 2, 'two batches from the executable');
    // The runtime's own UDP and HTTP servers take application metrics, as Node's do.
    const posted = await fetch(`http://127.0.0.1:${httpPort}/metrics`, {
      method: 'POST',
      body: JSON.stringify({ name: 'queue.size', kind: 'gauge', value: 12 }),
    });
    expect(posted.status).toBeLessThan(300);
    const udp = createSocket('udp4');
    await new Promise((resolve) => udp.send('jobs.done:3|c', statsdPort, '127.0.0.1', resolve));
    udp.close();
    const metricNames = () => server.received.flatMap((batch) => (batch.metrics ?? []).map((m) => m.name));
    await until(() => ['queue.size', 'jobs.done'].every((name) => metricNames().includes(name)), 'intake metrics');
    // The control socket over the runtime's own node:http upgrade (the live view's "go live" channel).
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
});

// The arm64 build, cross-compiled here, run under qemu's user-mode emulation where the machine has it
// (Debian: qemu-user and libc6-arm64-cross).
const QEMU = '/usr/bin/qemu-aarch64';
const ARM64_LIBS = '/usr/aarch64-linux-gnu';
const canEmulateArm64 = target === 'linux-x64' && existsSync(QEMU) && existsSync(path.join(ARM64_LIBS, 'lib'));

describe.runIf(canEmulateArm64)('the linux-arm64 executable (under qemu)', () => {
  it('prints its version and collects a sample with no node on its PATH', async () => {
    const [arm64] = (await buildExecutables(['linux-arm64'], tmp('pw-executable-arm64-'))) as [ExecutableResult];
    expect(readFileSync(arm64.outfile).subarray(18, 20).readUInt16LE()).toBe(183); // e_machine: EM_AARCH64
    const emulated = (args: string[]) =>
      runProgram(
        [QEMU, arm64.outfile],
        args,
        { PATH: emptyPath, QEMU_LD_PREFIX: ARM64_LIBS },
        path.dirname(arm64.outfile),
      ).done;
    expect(await emulated(['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    const collected = await emulated(['collect', '--once', '--json']);
    expect(collected.code).toBe(0);
    expect(Sample.parse(JSON.parse(collected.stdout)).memory?.total).toBeGreaterThan(0);
  }, 120_000);
});
