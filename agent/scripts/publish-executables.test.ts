import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmp } from '../src/test/run-cli.ts';
import { downloadsBucket, plannedUploads } from './publish-executables.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

describe('publishing the executables to R2', () => {
  it('finds the bucket bound as DOWNLOADS in wrangler.toml', () => {
    expect(downloadsBucket(readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8'))).toBe('pulsewire-downloads');
    const other =
      '[[r2_buckets]]\nbinding = "LOGS"\nbucket_name = "logs"\n\n[[r2_buckets]]\nbinding = "DOWNLOADS"\nbucket_name = "dl"\n';
    expect(downloadsBucket(other)).toBe('dl');
    expect(() => downloadsBucket('[vars]\nX = "1"\n')).toThrow(/DOWNLOADS/);
  });

  it('uploads every executable and checksum, under the version the Worker serves, and nothing else', async () => {
    const dir = tmp('pw-publish-');
    for (const name of ['pulsewire-agent-linux-x64', 'pulsewire-agent-linux-x64.sha256', 'pulsewire-agent.mjs']) {
      writeFileSync(path.join(dir, name), name);
    }
    expect(await plannedUploads(dir, 'dl', '1.2.3')).toEqual([
      {
        file: path.join(dir, 'pulsewire-agent-linux-x64'),
        objectPath: 'dl/agent/1.2.3/pulsewire-agent-linux-x64',
        contentType: 'application/octet-stream',
      },
      {
        file: path.join(dir, 'pulsewire-agent-linux-x64.sha256'),
        objectPath: 'dl/agent/1.2.3/pulsewire-agent-linux-x64.sha256',
        contentType: 'text/plain; charset=utf-8',
      },
    ]);
    await expect(plannedUploads(tmp('pw-publish-'), 'dl', '1.2.3')).rejects.toThrow(/no agent executable/);
  });
});
