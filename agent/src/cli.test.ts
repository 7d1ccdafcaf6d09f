import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LIVE_CADENCE, Sample } from '@pulsewire/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type IngestServer, startIngestServer, until } from './test/ingest-server.ts';
import { runCli, tmp } from './test/run-cli.ts';

const CLI = path.join(import.meta.dirname, 'cli.ts');
/** Runs the real CLI from source in a child process. */
const cli = (args: string[], env: Record<string, string> = {}, stdin?: string) =>
  runCli(CLI, args, env, undefined, stdin);

let server: IngestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('pulsewire-agent CLI', () => {
  it('prints help for every command', async () => {
    const { code, stdout } = await cli(['--help']).done;
    expect(code).toBe(0);
    for (const command of ['run', 'enroll', 'status', 'collect --once', 'install-service'])
      expect(stdout).toContain(command);
  });

  it('collect --once --json prints one sample that parses with the protocol schema', async () => {
    const { code, stdout, stderr } = await cli(['collect', '--once', '--json'], {
      PULSEWIRE_DOCKER_SOCKET: '/nonexistent.sock',
    }).done;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const sample = Sample.parse(JSON.parse(stdout));
    expect(sample.memory?.total).toBeGreaterThan(0);
    expect(sample.cpu?.perCore.length).toBeGreaterThan(0);
    expect(sample.processes?.total).toBeGreaterThan(0);
  });

  it('explains a bad config file and exits non-zero', async () => {
    const dir = tmp();
    const file = path.join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify({ url: 'not a url', statsd: { port: 99999 }, colour: 'blue' }));
    const { code, stderr } = await cli(['status', '--config', file]).done;
    expect(code).toBe(2);
    expect(stderr).toContain(`The config file ${file} is invalid`);
    expect(stderr).toMatch(/url:/);
    expect(stderr).toMatch(/statsd\.port:/);
    expect(stderr).toMatch(/colour/);

    writeFileSync(file, '{ "url": ');
    const broken = await cli(['run', '--config', file]).done;
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('is not valid JSON');
  });

  it('refuses to run unenrolled, with what to do, and rejects unknown commands and options', async () => {
    const run = await cli(['run']).done;
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('not enrolled');
    expect(run.stderr).toContain('pulsewire-agent enroll');
    expect((await cli(['frobnicate']).done).code).toBe(2);
    expect((await cli(['run', '--no-such-flag']).done).code).toBe(2);
    const env = await cli(['run'], { PULSEWIRE_STATSD: 'everywhere' }).done;
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('PULSEWIRE_STATSD');
  });

  it('enrolls (0600 config), installs a unit, runs, survives kill -9 with a spool, and replays it', async () => {
    server = await startIngestServer();
    const dir = tmp();
    const config = path.join(dir, 'agent.json');
    const stateDir = path.join(dir, 'state');
    const common = {
      PULSEWIRE_CONFIG: config,
      PULSEWIRE_STATE_DIR: stateDir,
      PULSEWIRE_STATSD: 'off',
      PULSEWIRE_HTTP: 'off',
    };

    const enrolled = await cli(['enroll', '--url', server.url, '--name', 'web-1', '--label', 'env=test'], {
      ...common,
      PULSEWIRE_KEY: 'pk_test_key',
    }).done;
    expect(enrolled.stderr).toBe('');
    expect(enrolled.code).toBe(0);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    const written = JSON.parse(readFileSync(config, 'utf8'));
    expect(written).toMatchObject({ hostId: server.hostId, name: 'web-1', labels: { env: 'test' } });
    expect(server.enrollments[0]).toMatchObject({
      name: 'web-1',
      labels: { env: 'test' },
      publicKey: written.publicKey,
    });
    // The test server verifies with its own key pair: give this host that identity.
    writeFileSync(
      config,
      JSON.stringify({ ...written, privateKey: server.keys.privateKey, publicKey: server.keys.publicKey }),
      { mode: 0o600 },
    );

    const again = await cli(['enroll', '--key-file', '-', '--url', server.url], common, 'pk_test_key\n').done;
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(server.enrollments[1]?.publicKey).toBe(server.keys.publicKey);
    expect(server.enrollments[1]?.machineId).toBe(server.enrollments[0]?.machineId);

    const unitPath = path.join(dir, 'pulsewire-agent.service');
    const installed = await cli(['install-service', '--unit-path', unitPath], common).done;
    expect(installed.code).toBe(0);
    expect(installed.stdout).toContain(unitPath);
    const unit = readFileSync(unitPath, 'utf8');
    expect(unit).toContain(`run --config ${config}`);
    expect(unit).toContain('KillSignal=SIGTERM');

    // Live cadence, the batches over the control socket once it is open, then the server starts failing (nacks
    // 503 on the socket): batches pile up in the spool.
    server.setCadence(LIVE_CADENCE);
    const first = cli(['run'], common);
    await until(
      () => server?.requests.some((r) => r.via === 'control' && r.status === 200) ?? false,
      'a batch over the control socket',
    );
    server.script.push(...Array.from({ length: 1000 }, () => ({ status: 503 })));
    const spoolDir = path.join(stateDir, 'spool');
    const spooled = () => readdirSync(spoolDir).filter((name) => name.endsWith('.json.gz'));
    await until(() => spooled().length >= 3, 'three spooled batches', 2000);
    first.child.kill('SIGKILL');
    // Answered with a nack on the socket, kept like a 503 over HTTP.
    expect(server.requests.some((r) => r.via === 'control' && r.status === 503)).toBe(true);
    expect((await first.done).signal).toBe('SIGKILL');
    const onDisk = spooled()
      .map((name) => Number(name.slice(0, 16)))
      .sort((a, b) => b - a);

    const status = await cli(['status', '--json'], common).done;
    expect(JSON.parse(status.stdout)).toMatchObject({
      enrolled: true,
      hostId: server.hostId,
      spoolDepth: onDisk.length,
    });

    server.script.splice(0);
    const second = cli(['run'], common);
    await until(() => onDisk.every((seq) => server?.received.some((b) => b.seq === seq)), 'the spooled batches', 2000);
    second.child.kill('SIGTERM');
    const stopped = await second.done;
    expect(stopped.code).toBe(0);
    expect(second.output()).toContain('SIGTERM');

    const replayed = server.received.map((b) => b.seq).filter((seq) => onDisk.includes(seq));
    expect(replayed).toEqual(onDisk);
    expect(new Set(server.received.map((b) => b.batch_id)).size).toBe(server.received.length);
    expect(server.received[0]?.facts?.hostname).toBeTruthy();
    expect(server.violations).toEqual([]);
    expect(spooled()).toEqual([]);
  });

  it('takes the ingest key from PULSEWIRE_KEY or a key file, warns when it is on the command line', async () => {
    server = await startIngestServer();
    const dir = tmp();
    const common = { PULSEWIRE_CONFIG: path.join(dir, 'agent.json') };
    const keyFile = path.join(dir, 'ingest.key');
    writeFileSync(keyFile, 'pk_test_key\n', { mode: 0o600 });
    const fromFile = await cli(['enroll', '--key-file', keyFile, '--url', server.url], common).done;
    expect(fromFile.stderr).toBe('');
    expect(fromFile.code).toBe(0);

    // Still accepted, but it shows in `ps`: said on stderr.
    const onCommandLine = await cli(['enroll', '--key', 'pk_test_key', '--url', server.url], common).done;
    expect(onCommandLine.code).toBe(0);
    expect(onCommandLine.stderr).toContain('--key puts the ingest key on the command line');
    expect(server.enrollments).toHaveLength(2);

    const none = await cli(['enroll', '--url', server.url], common).done;
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('PULSEWIRE_KEY=<key>');
    const both = await cli(['enroll', '--key', 'pk_test_key', '--key-file', keyFile, '--url', server.url], common).done;
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('not both');
    const missing = await cli(['enroll', '--key-file', path.join(dir, 'nope'), '--url', server.url], common).done;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
    const empty = await cli(['enroll', '--key-file', '-', '--url', server.url], common, '\n').done;
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('holds no key');
    expect(server.enrollments).toHaveLength(2);
  });

  it('keeps every batch on HTTP with PULSEWIRE_CONTROL_SOCKET=off', async () => {
    server = await startIngestServer();
    const dir = tmp();
    const config = path.join(dir, 'agent.json');
    const common = {
      PULSEWIRE_CONFIG: config,
      PULSEWIRE_STATE_DIR: path.join(dir, 'state'),
      PULSEWIRE_STATSD: 'off',
      PULSEWIRE_HTTP: 'off',
    };
    expect((await cli(['enroll', '--url', server.url], { ...common, PULSEWIRE_KEY: 'pk_test_key' }).done).code).toBe(0);
    writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), ...server.keys }), {
      mode: 0o600,
    });
    server.setCadence(LIVE_CADENCE);
    const running = cli(['run'], { ...common, PULSEWIRE_CONTROL_SOCKET: 'off' });
    await until(() => (server?.received.length ?? 0) >= 3, 'three batches');
    running.child.kill('SIGTERM');
    expect((await running.done).code).toBe(0);
    expect(server.control.attempts).toEqual([]);
    expect(server.requests.every((r) => r.via === 'http')).toBe(true);
    expect(server.violations).toEqual([]);
  });
});
