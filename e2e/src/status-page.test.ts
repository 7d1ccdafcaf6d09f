import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type DevStack, REPO_ROOT, startDevStack } from '@pulsewire/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchedBrowser, launchBrowser } from './browser.ts';

/**
 * The newcomer's first look: `pnpm dev`'s stack (embedded Postgres, relay, migrations, wrangler dev
 * serving API + Durable Objects + the built dashboard) and a real browser on the status page.
 */
describe('status page on the local stack', () => {
  let stack: DevStack;
  let browser: LaunchedBrowser;
  let dataDir: string;

  beforeAll(async () => {
    if (!fs.existsSync(path.join(REPO_ROOT, 'web/build/index.html'))) {
      throw new Error('web/build is missing: run `pnpm build` first (`pnpm test` does)');
    }
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-e2e-'));
    stack = await startDevStack({ dataDir });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows a healthy API and database, as the API reports them', async () => {
    const page = await browser.context.newPage();
    const apiAnswer = page.waitForResponse((res) => res.url().endsWith('/api/v1/health'));
    await page.goto(`${stack.url}/status`);
    const response = await apiAnswer;
    expect(response.status()).toBe(200);
    const health = (await response.json()) as { version: string; database: { ok: boolean } };
    expect(health.database.ok).toBe(true);

    await expect.poll(() => page.getByTestId('api-status').textContent(), { timeout: 15_000 }).toBe('ok');
    expect(await page.getByTestId('db-status').textContent()).toBe('reachable');
    expect(await page.getByTestId('api-version').textContent()).toContain(health.version);
  });

  it('serves the dashboard with security headers, a script policy it keeps, and a hardened API reference', async () => {
    const page = await browser.context.newPage();
    await page.addInitScript(() => {
      const seen: string[] = [];
      Object.assign(window, { cspViolations: seen });
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const res = await page.goto(`${stack.url}/status`);
    const headers = res?.headers() ?? {};
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const meta = await page.locator('meta[http-equiv="content-security-policy"]').getAttribute('content');
    expect(meta).toMatch(/script-src 'self' 'sha256-[^']+'(;|$)/);
    // The page ran its scripts under that policy: it rendered live data, and the browser refused nothing.
    await expect.poll(() => page.getByTestId('api-status').textContent(), { timeout: 15_000 }).toBe('ok');
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);

    const docs = await fetch(`${stack.url}/api/docs`);
    expect(docs.headers.get('content-security-policy')).toMatch(/script-src 'nonce-/);
    expect(await docs.text()).toMatch(
      /<script src="https:\/\/cdn\.jsdelivr\.net\/npm\/@scalar\/api-reference@[\d.]+\/[^"]+" integrity="sha384-/,
    );
  });

  it('serves deep links through the SPA fallback and keeps /api answers JSON', async () => {
    const page = await browser.context.newPage();
    const res = await page.goto(`${stack.url}/status?from=deep-link`);
    expect(res?.status()).toBe(200);
    expect(await page.title()).toMatch(/Pulsewire/);

    const api = await fetch(`${stack.url}/api/v1/definitely-not-a-route`);
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});
