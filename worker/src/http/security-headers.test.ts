import { describe, expect, it } from 'vitest';
import { baseEnv, callWorker } from '../../test/support.ts';
import { SCALAR_INTEGRITY, SCALAR_SCRIPT } from '../api/docs.ts';

const expectHardened = (res: Response) => {
  expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
  expect(res.headers.get('X-Frame-Options')).toBe('DENY');
  expect(res.headers.get('Referrer-Policy')).toBe('no-referrer');
  expect(res.headers.get('Content-Security-Policy')).toContain("frame-ancestors 'none'");
};

describe('security headers on what the Worker serves', () => {
  it('API answers, errors included, may load nothing and be framed nowhere', async () => {
    for (const path of ['/api/v1/health', '/api/v1/no-such-route', '/api/v1/openapi.json']) {
      const res = await callWorker(baseEnv, path);
      expectHardened(res);
      expect(res.headers.get('Content-Security-Policy')).toMatch(/^default-src 'none';/);
    }
  });

  it('the API reference loads one pinned, integrity-checked script and runs only nonced scripts', async () => {
    const res = await callWorker(baseEnv, '/api/docs');
    expect(res.status).toBe(200);
    expectHardened(res);
    const csp = res.headers.get('Content-Security-Policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*(unsafe-inline|https:|\*)/);

    const html = await res.text();
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1] ?? '');
    expect(scripts).toHaveLength(2);
    for (const attributes of scripts) expect(attributes).toContain(`nonce="${nonce}"`);
    const external = scripts.filter((a) => a.includes('src='));
    expect(external).toHaveLength(1);
    expect(external[0]).toContain(`src="${SCALAR_SCRIPT}"`);
    expect(external[0]).toContain(`integrity="${SCALAR_INTEGRITY}"`);
    expect(SCALAR_SCRIPT).toMatch(/@\d+\.\d+\.\d+\//);
    expect(SCALAR_INTEGRITY).toMatch(/^sha384-[A-Za-z0-9+/]{64}$/);
    // A fresh nonce each time: a nonce an attacker could predict would be no protection.
    const again = (await callWorker(baseEnv, '/api/docs')).headers.get('Content-Security-Policy');
    expect(again).not.toBe(csp);
  });
});
