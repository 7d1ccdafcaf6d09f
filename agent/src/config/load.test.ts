import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, requireEnrolled } from './load.ts';
import { configCandidates, defaultStateDir, SYSTEM_CONFIG_PATH } from './paths.ts';
import { writeConfigFile } from './write.ts';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'pw-config-'));

describe('config', () => {
  it('looks in --config, then PULSEWIRE_CONFIG, then the XDG folder, then /etc', () => {
    expect(configCandidates('/x/a.json', { PULSEWIRE_CONFIG: '/y/b.json' })).toEqual(['/x/a.json']);
    expect(configCandidates(undefined, { PULSEWIRE_CONFIG: '/y/b.json' })).toEqual(['/y/b.json']);
    expect(configCandidates(undefined, { XDG_CONFIG_HOME: '/home/u/.cfg' })).toEqual([
      '/home/u/.cfg/pulsewire/agent.json',
      SYSTEM_CONFIG_PATH,
    ]);
    expect(configCandidates(undefined, { HOME: '/home/u' })[0]).toBe('/home/u/.config/pulsewire/agent.json');
    expect(defaultStateDir('/etc/pulsewire/agent.json')).toBe('/var/lib/pulsewire');
    expect(defaultStateDir('/home/u/.config/pulsewire/agent.json', { HOME: '/home/u' })).toBe(
      '/home/u/.local/state/pulsewire',
    );
  });

  it('layers file < environment < flags', async () => {
    const file = path.join(tmp(), 'agent.json');
    await writeConfigFile(file, {
      url: 'https://file.example',
      hostId: 'h1',
      privateKey: 'abc',
      name: 'from-file',
      statsd: { port: 9000 },
      logLevel: 'debug',
    });
    const config = await loadConfig({
      configPath: file,
      env: {
        PULSEWIRE_URL: 'https://env.example',
        PULSEWIRE_NAME: 'from-env',
        PULSEWIRE_HTTP: 'off',
        PULSEWIRE_STATSD: ':9100',
      },
      flags: { name: 'from-flag' },
    });
    expect(config).toMatchObject({
      url: 'https://env.example',
      ingestUrl: 'https://env.example/api/v1/ingest',
      name: 'from-flag',
      statsd: { enabled: true, host: '127.0.0.1', port: 9100 },
      http: { enabled: false, host: '127.0.0.1', port: 8126 },
      logLevel: 'debug',
    });
    expect(requireEnrolled(config)).toEqual({
      ingestUrl: 'https://env.example/api/v1/ingest',
      hostId: 'h1',
      privateKey: 'abc',
    });
  });

  it('writes the file with mode 0600', async () => {
    const file = path.join(tmp(), 'nested', 'agent.json');
    await writeConfigFile(file, { url: 'https://x.example' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  it('explains what is wrong: bad values, unknown keys, bad environment, not enrolled', async () => {
    const file = path.join(tmp(), 'agent.json');
    writeFileSync(file, JSON.stringify({ url: 'ftp://x', http: { port: 0 }, typo: true }));
    const error = await loadConfig({ configPath: file, env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/url:/);
    expect((error as Error).message).toMatch(/http\.port:/);
    expect((error as Error).message).toMatch(/typo/);

    const env = await loadConfig({
      configPath: path.join(tmp(), 'none.json'),
      env: { PULSEWIRE_LOG_LEVEL: 'loud' },
    }).catch((e: unknown) => e);
    expect((env as Error).message).toMatch(/PULSEWIRE_LOG_LEVEL/);

    const missing = await loadConfig({ configPath: path.join(tmp(), 'none.json'), env: {} });
    expect(() => requireEnrolled(missing)).toThrow(/not enrolled/);
  });
});
