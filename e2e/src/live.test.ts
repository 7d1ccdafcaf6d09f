import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Cadence } from '@pulsewire/protocol';
import { type DevStack, REPO_ROOT, startDevStack } from '@pulsewire/stack';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchedBrowser, launchBrowser } from './browser.ts';
import { type AgentProcess, runAgent, signUpWithIngestKey, stopAgent, until } from './support.ts';

/**
 * Issue 5 in the browser: the real agent pushes to the local stack at the idle cadence; opening the
 * host page subscribes to it live, so the server tells the agent to collect and push every second and
 * the page's charts gain a point every second; closing the tab relaxes the agent back to idle.
 *
 * The agent's side is read from its own `status.json` (the cadence the server last answered); the
 * page's side from the test hook on the live charts' rolling buffer (`data-points`, `data-last-ts`).
 * Every wait is bounded polling; no figure is a timing assertion.
 */
describe('live host page', () => {
  let stack: DevStack;
  let browser: LaunchedBrowser;
  let dataDir: string;
  let agentHome: string;
  let agent: AgentProcess | undefined;
  let hostId = '';
  const owner = { name: 'Ada Live', email: 'ada.live@example.com', password: 'analytical engine 1843' };

  beforeAll(async () => {
    if (!fs.existsSync(path.join(REPO_ROOT, 'web/build/index.html'))) {
      throw new Error('web/build is missing: run `pnpm build` first (`pnpm test` does)');
    }
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-e2e-live-'));
    agentHome = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-e2e-live-agent-'));
    stack = await startDevStack({ dataDir });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await stopAgent(agent);
    await browser?.close();
    await stack?.stop();
    for (const dir of [dataDir, agentHome]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The cadence the server last told the running agent, from its status file. */
  function agentStatus(): {
    cadence?: Cadence;
    lastPushAt?: number;
    control?: string;
    delivered?: { socket: number; http: number };
  } {
    try {
      return JSON.parse(fs.readFileSync(path.join(agentHome, 'state', 'status.json'), 'utf8'));
    } catch {
      return {};
    }
  }
  const log = () => `agent status ${JSON.stringify(agentStatus())}\n${agent?.output().slice(-3000) ?? ''}`;

  /** The live charts' rolling buffer as the page shows it. */
  async function buffer(page: Page): Promise<{ points: number; lastTs: number }> {
    const el = page.locator('[data-testid="live-charts"] [data-testid="live-buffer"]');
    const [points, lastTs] = await Promise.all([el.getAttribute('data-points'), el.getAttribute('data-last-ts')]);
    return { points: Number(points ?? 0), lastTs: Number(lastTs ?? 0) };
  }

  it('enrolls the real agent, which reports at the idle cadence', async () => {
    const key = await signUpWithIngestKey(browser.context.request, stack.url, owner);
    const enrolled = runAgent(agentHome, ['enroll', '--key', key, '--url', stack.url]);
    expect((await enrolled.exited).code, enrolled.output()).toBe(0);
    hostId = (JSON.parse(fs.readFileSync(path.join(agentHome, 'agent.json'), 'utf8')) as { hostId: string }).hostId;
    expect(hostId).toMatch(/^[0-9a-f-]{36}$/);

    agent = runAgent(agentHome, ['run']);
    await until('the first accepted push', () => agentStatus().lastPushAt !== undefined, 60_000);
    expect(agentStatus().cadence?.live, log()).toBe(false);
    const host = await browser.context.request.get(`${stack.url}/api/v1/hosts/${hostId}`);
    expect(host.status()).toBe(200);
  });

  it('gains a point every second while the host page is open, and relaxes the agent when it closes', async () => {
    expect(hostId).not.toBe('');
    // The agent's control socket is open, so the subscription reaches it at once (without it: with the agent's
    // next push, every 30 s at the idle cadence).
    await until('the control socket', () => agentStatus().control === 'open', 30_000, 250).catch((error) => {
      throw new Error(`${error.message}\n${log()}`);
    });
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${stack.url}/hosts/${hostId}`);
    const state = page.getByTestId('live-state');
    await page.locator('[data-testid="live-state"][data-state="open"]').waitFor({ timeout: 30_000 });
    expect((await state.textContent())?.trim()).toBe('Live');

    const openedAt = Date.now();
    await until('the agent to go live', () => agentStatus().cadence?.live === true, 45_000, 250).catch((error) => {
      throw new Error(`${error.message}\n${log()}`);
    });
    const flipMs = Date.now() - openedAt;
    expect(agentStatus().cadence?.collectIntervalMs).toBe(1000);

    // Per-second samples now stream in: the newest ts advances and the buffer grows.
    const start = await buffer(page);
    const seen = new Set<number>([start.lastTs]);
    let last = start;
    const windowStart = Date.now();
    await until(
      'the live charts to gain points',
      async () => {
        last = await buffer(page);
        seen.add(last.lastTs);
        return Date.now() - windowStart >= 6_000 && seen.size - 1 >= 3 && last.points - start.points >= 4;
      },
      30_000,
      200,
    ).catch((error) => {
      throw new Error(
        `${error.message}: from ${JSON.stringify(start)} to ${JSON.stringify(last)}, ${seen.size - 1} advances`,
      );
    });
    const windowMs = Date.now() - windowStart;
    expect(last.lastTs).toBeGreaterThan(start.lastTs);
    // The per-second batches went on the control socket (the tenant object stored them and showed them), not as
    // HTTP pushes: the socket was open before the page opened.
    expect(agentStatus().delivered?.socket ?? 0, log()).toBeGreaterThanOrEqual(3);
    await expect.poll(() => page.locator('[data-testid="live-charts"] svg path').count()).toBeGreaterThan(0);
    console.log(
      `live figures: ${JSON.stringify({ flipMs, windowMs, advances: seen.size - 1, gained: last.points - start.points, points: last.points })}`,
    );

    // Nobody watches any more: the control socket says so at once (and the next push answer would).
    await page.close();
    const closedAt = Date.now();
    await until(
      'the agent to relax to the idle cadence',
      () => agentStatus().cadence?.live === false,
      15_000,
      250,
    ).catch((error) => {
      throw new Error(`${error.message}\n${log()}`);
    });
    console.log(`live figures: relaxed ${Date.now() - closedAt} ms after the tab closed`);
    expect(agentStatus().cadence?.collectIntervalMs).toBeGreaterThan(1000);
    expect(agent?.child.exitCode, log()).toBeNull();
  }, 150_000);

  it('turns the host stale, then offline, on the list without a reload when the agent stops', async () => {
    expect(hostId).not.toBe('');
    const list = await browser.context.newPage();
    await list.goto(`${stack.url}/hosts`);
    const status = list.locator(`[data-testid="host-row"][data-host-id="${hostId}"] [data-testid="host-status"]`);
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 30_000 }).toBe('online');
    // Marks this document: a reload or navigation would lose it.
    await list.evaluate(() => {
      (window as unknown as { pulsewireMark: number }).pulsewireMark = 42;
    });

    await stopAgent(agent);
    agent = undefined;
    const stoppedAt = Date.now();
    // Decided by the tenant object's alarms (stale after 2.5 push intervals, offline after two minutes).
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 110_000, interval: 500 }).toBe('stale');
    const staleMs = Date.now() - stoppedAt;
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 150_000, interval: 500 }).toBe('offline');
    const offlineMs = Date.now() - stoppedAt;
    expect(await list.evaluate(() => (window as unknown as { pulsewireMark?: number }).pulsewireMark)).toBe(42);
    console.log(`presence figures: ${JSON.stringify({ staleMs, offlineMs })}`);
    await list.close();
  }, 300_000);
});
