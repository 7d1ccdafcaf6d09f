import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HostDetail, type Sample } from '@pulsewire/protocol';
import { type DevStack, REPO_ROOT, startDevStack } from '@pulsewire/stack';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchedBrowser, launchBrowser } from './browser.ts';

/**
 * Issue 4 in the browser: a fresh sign-up lands on the onboarding page, creates an ingest key in one
 * click, runs the very commands the page shows in an empty folder (download the bundled agent from the
 * stack, enroll, run: no checkout involved), sees the page turn green, then finds the host in the list
 * and its figures on the host page.
 */
describe('hosts in the browser', () => {
  let stack: DevStack;
  let browser: LaunchedBrowser;
  let page: Page;
  let dataDir: string;
  let agentHome: string;
  let agent: ChildProcess | undefined;
  let agentOutput = '';
  let hostId = '';
  const shots = path.join(os.tmpdir(), 'pulsewire-hosts-shots');
  const owner = { name: 'Grace Admin', email: 'grace@example.com', password: 'cobol forever 1959', org: 'Compilers' };

  beforeAll(async () => {
    for (const built of ['web/build/index.html', 'web/build/downloads/pulsewire-agent.mjs']) {
      if (!fs.existsSync(path.join(REPO_ROOT, built))) {
        throw new Error(`${built} is missing: run \`pnpm build\` first (\`pnpm test\` does)`);
      }
    }
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-e2e-hosts-'));
    agentHome = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-e2e-agent-'));
    fs.mkdirSync(shots, { recursive: true });
    stack = await startDevStack({ dataDir });
    browser = await launchBrowser();
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
    page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  afterAll(async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      const exited = new Promise((resolve) => agent?.once('exit', resolve));
      agent.kill('SIGTERM');
      const timer = setTimeout(() => agent?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await browser?.close();
    await stack?.stop();
    for (const dir of [dataDir, agentHome]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Runs a command exactly as the onboarding page shows it, in an empty folder, with a throwaway HOME. A plain
   * command is `exec`'d so signals reach the agent; one that starts with a variable (`PULSEWIRE_KEY=… node …`)
   * runs as written (`exec VAR=… cmd` is not shell syntax), which the one-shot enroll does not mind.
   */
  function shell(command: string): ChildProcess {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PULSEWIRE_')));
    const script = /^[A-Z_]+=/.test(command) ? command : `exec ${command}`;
    const child = spawn('sh', ['-c', script], {
      cwd: agentHome,
      env: {
        ...clean,
        HOME: agentHome,
        XDG_CONFIG_HOME: path.join(agentHome, '.config'),
        XDG_STATE_HOME: path.join(agentHome, '.state'),
        // Other agents may hold the default local intake ports on this machine.
        PULSEWIRE_STATSD: 'off',
        PULSEWIRE_HTTP: 'off',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk) => {
      agentOutput += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      agentOutput += chunk;
    });
    return child;
  }

  async function screenshot(name: string): Promise<void> {
    const toggle = page.getByRole('button', { name: 'Dark mode' });
    const style = '[data-sonner-toaster] { display: none !important; }';
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(shots, `${name}-light.png`), fullPage: true, style });
    await toggle.click();
    await page.waitForFunction(() => document.documentElement.classList.contains('dark'));
    await page.screenshot({ path: path.join(shots, `${name}-dark.png`), fullPage: true, style });
    await toggle.click();
    await page.waitForFunction(() => !document.documentElement.classList.contains('dark'));
  }

  it('lands a fresh sign-up on onboarding, runs the shown commands and turns green', async () => {
    await page.goto(`${stack.url}/signup`);
    await page.getByLabel('Your name').fill(owner.name);
    await page.getByLabel('Work e-mail').fill(owner.email);
    await page.getByLabel('Password', { exact: true }).fill(owner.password);
    await page.getByLabel('Organisation name (optional)').fill(owner.org);
    await page.getByTestId('signup-submit').click();
    await page.getByTestId('signup-done').waitFor();

    await page.goto(`${stack.url}/dev/outbox`);
    await page.getByTestId('outbox-message').filter({ hasText: owner.email }).first().click();
    await page.getByTestId('outbox-link').filter({ hasText: '/verify?token=' }).first().click();
    await page.getByTestId('verify-success').waitFor();
    await page.getByTestId('verify-continue').click();
    // No hosts yet: the admin of the new organisation is taken to onboarding.
    await page.waitForURL(/\/hosts\/new$/);
    await page.getByTestId('commands-pending').waitFor();
    expect(await page.getByTestId('nav-hosts').getAttribute('aria-current')).toBe('page');

    await page.getByTestId('onboarding-create-key').click();
    const secret = (await page.getByTestId('onboarding-secret').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^pw_live_[\w-]{20,}$/);
    expect(await page.getByTestId('onboarding-key-name').textContent()).toMatch(/^Agent on \d{1,2} \w{3} \d{4}$/);
    const install = (await page.getByTestId('install-command').textContent())?.trim() ?? '';
    const enroll = (await page.getByTestId('enroll-command').textContent())?.trim() ?? '';
    const run = (await page.getByTestId('run-command').textContent())?.trim() ?? '';
    expect(install).toBe(`curl -fsSLo pulsewire-agent.mjs ${stack.url}/downloads/pulsewire-agent.mjs`);
    // The key through the environment (or a pipe, for sudo): never in arguments that `ps` shows other users.
    expect(enroll).toBe(`PULSEWIRE_KEY=${secret} node pulsewire-agent.mjs enroll --url ${stack.url}`);
    await page.getByTestId('service-commands').locator('summary').click();
    const serviceEnroll = (await page.getByTestId('service-enroll-command').textContent()) ?? '';
    expect(serviceEnroll).toContain(`printf '%s\\n' '${secret}' | sudo node `);
    expect(serviceEnroll).toContain(`enroll --key-file - --url ${stack.url} --config /etc/pulsewire/agent.json`);
    await page.getByTestId('copy-enroll-command').click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(enroll);
    await page.getByTestId('onboarding-waiting').waitFor();
    await screenshot('onboarding-waiting');

    const downloaded = shell(install);
    expect(await new Promise((resolve) => downloaded.once('exit', resolve)), agentOutput).toBe(0);
    // The very file `pnpm build` bundled, not the SPA's index.html that unknown paths fall back to.
    expect(fs.readFileSync(path.join(agentHome, 'pulsewire-agent.mjs'))).toEqual(
      fs.readFileSync(path.join(REPO_ROOT, 'web/build/downloads/pulsewire-agent.mjs')),
    );

    const enrolled = shell(enroll);
    const code = await new Promise<number | null>((resolve) => enrolled.once('exit', resolve));
    expect(code, agentOutput).toBe(0);
    expect(agentOutput).toContain('Enrolled');
    expect(fs.statSync(path.join(agentHome, '.config/pulsewire/agent.json')).mode & 0o777).toBe(0o600);

    agent = shell(run);
    await page.getByTestId('onboarding-success').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('reporting-host').textContent()).toBe(os.hostname());
    await screenshot('onboarding-success');
    await page.getByTestId('open-host').click();
    await page.waitForURL(/\/hosts\/[0-9a-f-]{36}$/);
    hostId = new URL(page.url()).pathname.split('/').pop() ?? '';
  });

  it('lists the host with its status and at-a-glance figures', async () => {
    expect(hostId).not.toBe('');
    await page.getByTestId('nav-hosts').click();
    await page.waitForURL(/\/hosts$/);
    const row = page.getByTestId('host-row');
    await row.first().waitFor();
    expect(await row.count()).toBe(1);
    expect(await row.getAttribute('data-host-id')).toBe(hostId);
    expect(await row.getByTestId('host-link').textContent()).toBe(os.hostname());
    expect(await row.getByTestId('host-status').getAttribute('data-status')).toBe('online');
    expect((await row.getByTestId('host-os').textContent())?.trim()).not.toBe('Unknown OS');
    expect(await row.getByTestId('glance-mem-value').textContent()).toMatch(/^\d+(\.\d)? %$/);
    expect(await row.getByTestId('glance-disk-value').textContent()).toMatch(/^\d+(\.\d)? %$/);
    expect(await row.getByTestId('host-last-seen').textContent()).toMatch(/just now|s ago/);
    await screenshot('hosts-list');
  });

  it('shows the host page with facts, CPU and filesystems from the real agent', async () => {
    await page.getByTestId('host-link').click();
    await page.waitForURL(new RegExp(`/hosts/${hostId}$`));
    expect(await page.getByTestId('host-name').textContent()).toBe(os.hostname());
    await page.getByTestId('section-facts').waitFor();
    expect(Number(await page.getByTestId('fact-cores').textContent())).toBeGreaterThan(0);
    expect(await page.getByTestId('live-charts').count()).toBe(1);
    await page.getByTestId('section-memory').waitFor();
    expect(await page.getByTestId('memory-pct').textContent()).toMatch(/^\d+(\.\d)? %$/);
    // The first sample has the filesystems (read once a minute); CPU needs two readings, so it comes with the
    // next push (30 s at the idle cadence) and the page, refreshing every 10 s, keeps the filesystems meanwhile.
    await page.getByTestId('disk-row').first().waitFor();
    expect(await page.getByTestId('disk-mount').allTextContents()).toContain('/');
    await page.getByTestId('section-cpu').waitFor({ timeout: 75_000 });
    expect(await page.getByTestId('cpu-total').textContent()).toMatch(/^\d+(\.\d)? %$/);
    expect(await page.getByTestId('cpu-cores').locator(':scope > div').count()).toBe(os.cpus().length);
    expect(await page.getByTestId('disk-row').count()).toBeGreaterThan(0);
    await page.getByTestId('section-agent').waitFor();
    expect(await page.getByTestId('agent-rss').textContent()).toMatch(/MiB$/);
    await screenshot('host-page');

    // The key the onboarding page created is an ingest key under API keys.
    await page.getByTestId('nav-api-keys').click();
    await page.getByTestId('key-row').first().waitFor();
    expect(await page.getByTestId('key-name').textContent()).toMatch(/^Agent on /);
    expect(await page.getByTestId('key-scope').textContent()).toBe('ingest');
  }, 120_000);

  it('shows GPUs, containers and temperatures when a host reports them', async () => {
    // This machine has no GPU or Docker: lay fixed readings over the real answer, checked against the protocol.
    const extra: Pick<Sample, 'gpus' | 'containers' | 'temps'> = {
      gpus: [
        {
          index: 0,
          name: 'NVIDIA H100 80GB HBM3',
          driver: '550.54.15',
          utilPct: 87,
          memUsed: 60 * 1024 ** 3,
          memTotal: 80 * 1024 ** 3,
          tempC: 71,
          powerW: 512.4,
          powerLimitW: 700,
        },
      ],
      containers: [
        {
          id: 'a1b2c3d4e5f6',
          name: 'api-1',
          image: 'ghcr.io/acme/api:1.4.2',
          composeService: 'api',
          state: 'running',
          cpuPct: 142.5,
          memUsed: 512 * 1024 ** 2,
          memLimit: 2 * 1024 ** 3,
          netRx: 3 * 1024 ** 2,
          netTx: 1024 ** 2,
          pids: 23,
        },
        { id: 'f6e5d4c3b2a1', name: 'migrate-1', image: 'ghcr.io/acme/migrate:1.4.2', state: 'exited' },
      ],
      temps: [
        { label: 'Package id 0', c: 58.5 },
        { label: 'nvme Composite', c: 41 },
      ],
    };
    await page.route(`${stack.url}/api/v1/hosts/${hostId}`, async (route) => {
      const response = await route.fetch();
      const body = HostDetail.parse(await response.json());
      const json = HostDetail.parse({ ...body, latest: { ...body.latest, ...extra } });
      await route.fulfill({ response, json });
    });
    await page.goto(`${stack.url}/hosts/${hostId}`);
    await page.getByTestId('section-gpus').waitFor();
    expect(await page.getByTestId('gpu-row').textContent()).toContain('NVIDIA H100 80GB HBM3');
    expect(await page.getByTestId('gpu-row').textContent()).toContain('512 W of 700 W');
    expect(await page.getByTestId('container-row').count()).toBe(2);
    // Busiest first, with the compose service and the memory limit.
    const first = page.getByTestId('container-row').first();
    expect(await first.textContent()).toContain('service api');
    expect(await first.textContent()).toContain('143 %');
    expect(await first.textContent()).toContain('512 MiB / 2 GiB');
    expect(await page.getByTestId('section-temps').textContent()).toContain('58.5 °C');
    await screenshot('host-page-gpu-containers');
    await page.unroute(`${stack.url}/api/v1/hosts/${hostId}`);
  });
});
