import { beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, callWorker } from '../test/support.ts';
import { downloadKey } from './download-files.ts';
import type { Env } from './env.ts';
import { APP_VERSION } from './version.ts';

// The bucket is the local R2 that the test runtime emulates from wrangler.toml's DOWNLOADS binding.
const executable = new Uint8Array(4096).map((_, i) => i % 251);
const checksum = 'ab'.repeat(32);

describe('agent executable downloads (R2)', () => {
  let env: Env;
  beforeAll(async () => {
    env = baseEnv;
    const bucket = env.DOWNLOADS as R2Bucket;
    await bucket.put(downloadKey('pulsewire-agent-linux-x64', APP_VERSION), executable);
    await bucket.put(
      downloadKey('pulsewire-agent-linux-x64.sha256', APP_VERSION),
      `${checksum}  pulsewire-agent-linux-x64\n`,
    );
    // An older deployment's upload: never served by this one.
    await bucket.put(downloadKey('pulsewire-agent-linux-arm64', '0.0.1'), executable);
  });

  it('serves the executable of this deployment as an attachment, with its length and ETag', async () => {
    const res = await callWorker(env, '/downloads/pulsewire-agent-linux-x64');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="pulsewire-agent-linux-x64"');
    expect(res.headers.get('content-length')).toBe('4096');
    expect(res.headers.get('etag')).toMatch(/^"/);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(executable);
  });

  it('serves its checksum as text', async () => {
    const res = await callWorker(env, '/downloads/pulsewire-agent-linux-x64.sha256');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe(`${checksum}  pulsewire-agent-linux-x64\n`);
  });

  it('answers HEAD, a conditional GET with 304 and a range with 206', async () => {
    const head = await callWorker(env, '/downloads/pulsewire-agent-linux-x64', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('4096');
    const etag = head.headers.get('etag') as string;

    const unchanged = await callWorker(env, '/downloads/pulsewire-agent-linux-x64', {
      headers: { 'If-None-Match': etag },
    });
    expect(unchanged.status).toBe(304);
    expect(await unchanged.text()).toBe('');

    const part = await callWorker(env, '/downloads/pulsewire-agent-linux-x64', { headers: { Range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 100-199/4096');
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(executable.slice(100, 200));
  });

  it('says what is missing: a file this deployment did not upload, or a name that is no download', async () => {
    const missing = await callWorker(env, '/downloads/pulsewire-agent-linux-arm64');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_published' } });

    const unknown = await callWorker(env, '/downloads/pulsewire-agent-linux-x64.exe');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});
