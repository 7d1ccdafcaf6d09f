import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreatedApiKey, HostDetail, OutboxList, WebhookPayload } from '@pulsewire/protocol';
import {
  ApiSession,
  type DevStack,
  type FakeWebhookReceiver,
  REPO_ROOT,
  startDevStack,
  startFakeWebhookReceiver,
  verifyFromOutbox,
} from '@pulsewire/stack';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchedBrowser, launchBrowser } from './browser.ts';
import { type AgentProcess, runAgent, signUpWithIngestKey, stopAgent, until } from './support.ts';

/**
 * Issue 10 in the browser, against the real stack and the real agent:
 *
 * - A rule and a webhook channel made in the UI; the agent's own CPU readings cross the rule; the
 *   alert shows on /alerts and the host page, a receiver that checks every signature with the
 *   `standardwebhooks` library gets one firing message, the channel's delivery log says it was sent;
 *   raising the threshold in the editor sends one resolution.
 * - A sign-up that configures nothing still hears about a dead host: the built-in "Host down" rule
 *   mails the owners (the dev outbox) once the agent stops, and once more when it is back.
 *
 * The stack runs with a 5 s idle push interval so presence and the agent's pushes move quickly; the
 * host-down grace is still its floor of 60 s (max(3 × push interval, 60 s)). Every wait is bounded
 * polling; no figure is a timing assertion.
 */

const PUSH_MS = 5_000;
/** The built-in rule's grace (3 push intervals, at least 60 s) and its group wait (30 s). */
type OutboxMessage = ReturnType<typeof OutboxList.parse>['messages'][number];

const HOST_DOWN_GRACE_MS = Math.max(3 * PUSH_MS, 60_000);
const DEFAULT_GROUP_WAIT_MS = 30_000;

describe('alerting in the browser', () => {
  let stack: DevStack;
  let browser: LaunchedBrowser;
  let page: Page;
  let receiver: FakeWebhookReceiver;
  let dataDir: string;
  const homes: string[] = [];
  const agents: AgentProcess[] = [];
  const shots = path.join(os.tmpdir(), 'pulsewire-alerting-shots');
  const started = Date.now();

  beforeAll(async () => {
    if (!fs.existsSync(path.join(REPO_ROOT, 'web/build/index.html'))) {
      throw new Error('web/build is missing: run `pnpm build` first (`pnpm test` does)');
    }
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-e2e-alerting-'));
    fs.mkdirSync(shots, { recursive: true });
    [stack, receiver, browser] = await Promise.all([
      startDevStack({
        dataDir,
        vars: {
          INGEST_IDLE_PUSH_MS: String(PUSH_MS),
          INGEST_IDLE_COLLECT_MS: String(PUSH_MS),
          NOTIFY_TIMEOUT_MS: '5000',
        },
      }),
      startFakeWebhookReceiver(),
      launchBrowser(),
    ]);
    page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    console.log(`alerting figures: stack ready after ${Date.now() - started} ms`);
  });

  afterAll(async () => {
    for (const agent of agents) await stopAgent(agent);
    await browser?.close();
    await receiver?.stop();
    await stack?.stop();
    for (const dir of [dataDir, ...homes]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    console.log(`alerting figures: file took ${Date.now() - started} ms`);
  });

  /** Enrolls the real agent with `key` into a fresh HOME and starts it; resolves after its first accepted push. */
  async function startEnrolledAgent(key: string): Promise<{ home: string; hostId: string; agent: AgentProcess }> {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-e2e-alerting-agent-'));
    homes.push(home);
    const enrolled = runAgent(home, ['enroll', '--key', key, '--url', stack.url]);
    expect((await enrolled.exited).code, enrolled.output()).toBe(0);
    const hostId = (JSON.parse(fs.readFileSync(path.join(home, 'agent.json'), 'utf8')) as { hostId: string }).hostId;
    const agent = await runUntilPushed(home);
    return { home, hostId, agent };
  }

  async function runUntilPushed(home: string): Promise<AgentProcess> {
    const statusFile = path.join(home, 'state', 'status.json');
    fs.rmSync(statusFile, { force: true });
    const agent = runAgent(home, ['run']);
    agents.push(agent);
    await until(
      'the agent’s first accepted push',
      () => {
        try {
          return (JSON.parse(fs.readFileSync(statusFile, 'utf8')) as { lastPushAt?: number }).lastPushAt !== undefined;
        } catch {
          return false;
        }
      },
      60_000,
      200,
    ).catch((error) => {
      throw new Error(`${error.message}\n${agent.output().slice(-3000)}`);
    });
    return agent;
  }

  async function screenshot(name: string): Promise<void> {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({
      path: path.join(shots, `${name}.png`),
      fullPage: true,
      style: '[data-sonner-toaster] { display: none !important; }',
    });
  }

  it('creates a webhook channel and a rule in the UI, fires on the real agent’s data and resolves on an edit', async () => {
    const owner = { name: 'Margaret Hooks', email: 'margaret.hooks@example.com', password: 'apollo guidance 1969' };
    const key = await signUpWithIngestKey(browser.context.request, stack.url, owner);
    const { hostId } = await startEnrolledAgent(key);

    // The channel: a webhook to the receiver, whose secret the dialog shows once.
    const hookPath = '/hooks/e2e-alerting';
    await page.goto(`${stack.url}/alerts/channels`);
    await page.getByTestId('new-channel').first().click();
    await page.getByTestId('channel-type-webhook').click();
    await page.getByTestId('channel-name').fill('E2E receiver');
    await page.getByTestId('channel-webhook-url').fill(`${receiver.url}${hookPath}`);
    await page.getByTestId('channel-save').click();
    const secret = (await page.getByTestId('channel-secret').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^whsec_/);
    receiver.register(hookPath, secret);
    await screenshot('channel-secret');
    await page.getByTestId('channel-secret-done').click();
    const channelRow = page.getByTestId('channel-row').filter({ hasText: 'E2E receiver' });
    await channelRow.waitFor();
    const channelId = (await channelRow.getAttribute('data-channel-id')) ?? '';
    expect(channelId).toMatch(/^[0-9a-f-]{36}$/);

    // CPU needs two readings: wait for the first figure, so the editor's preview has it too.
    await until(
      'the host’s first CPU figure',
      async () => {
        const res = await browser.context.request.get(`${stack.url}/api/v1/hosts/${hostId}`);
        return HostDetail.parse(await res.json()).latest?.cpu !== undefined;
      },
      30_000,
      500,
    );

    // The rule: the last CPU reading above 0 % is critical at once, told to that channel alone, ungrouped.
    await page.getByTestId('alerts-tab-rules').click();
    await page.getByTestId('new-rule').click();
    await page.waitForURL(/\/alerts\/rules\/new$/);
    await page.getByTestId('rule-name').fill('CPU busy at all');
    await page.getByTestId('rule-kind-threshold').click();
    await page.getByTestId('rule-metric').selectOption('cpu.total');
    await page.getByTestId('rule-aggregation').selectOption('last');
    await page.getByTestId('rule-comparison').selectOption('gt');
    await page.getByTestId('rule-warning-on').click();
    expect(await page.getByTestId('rule-warning-on').getAttribute('data-state')).toBe('unchecked');
    expect(await page.getByTestId('rule-critical-on').getAttribute('data-state')).toBe('checked');
    await page.getByTestId('rule-critical-threshold').fill('0');
    // Below any reading, so an idle 0 % moment cannot resolve it (the form starts from the built-in 97/90).
    await page.getByTestId('rule-critical-recovery').fill('-1');
    await page.getByTestId('rule-for').fill('0');
    await page.getByTestId('rule-notify-every').click();
    await page.getByTestId(`rule-notify-channel-${channelId}`).check();
    await page.getByTestId('rule-group-wait').fill('0');
    // The preview runs the drafted rule over the host's history: it would fire there now.
    await page.getByTestId('preview-firing-row').first().waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('preview-firing-row').count()).toBe(1);
    await screenshot('rule-editor');
    await page.getByTestId('rule-save').click();
    // A refused form stays on /new: say which fields it marked.
    await page.waitForURL(/\/alerts\/rules\/[0-9a-f-]{36}$/, { timeout: 15_000 }).catch(async (error) => {
      const invalid = await page.locator('[aria-invalid="true"]').evaluateAll((els) => els.map((e) => e.id));
      const texts = await page.locator('.text-danger').allTextContents();
      throw new Error(`${error.message}\n${JSON.stringify({ invalid, texts })}`);
    });
    const ruleId = new URL(page.url()).pathname.split('/').pop() ?? '';

    /** What the receiver processed for this rule, by kind (every attempt must have verified). */
    const messages = () => {
      const mine = receiver.deliveries
        .filter((d) => d.path === hookPath)
        .map((d) => WebhookPayload.parse(d.payload))
        .filter((p) => p.data.alerts.some((a) => a.ruleId === ruleId));
      return {
        firing: mine.filter((p) => p.data.kind === 'firing'),
        resolved: mine.filter((p) => p.data.kind === 'resolved'),
      };
    };
    const ruleSavedAt = Date.now();
    await until('the firing webhook', () => messages().firing.length > 0, 60_000, 200);
    const firedMs = Date.now() - ruleSavedAt;
    const [fired] = messages().firing;
    expect(fired?.type).toBe('alert.firing');
    expect(fired?.data.alerts).toHaveLength(1);
    expect(fired?.data.alerts[0]).toMatchObject({ ruleId, hostId, level: 'critical', state: 'firing', threshold: 0 });
    expect(fired?.data.alerts[0]?.value).toBeGreaterThan(0);

    // On the dashboard: the alerts page and the host page's card.
    await page.goto(`${stack.url}/alerts`);
    const alertRow = page.getByTestId('alert-row').filter({ hasText: 'CPU busy at all' });
    await alertRow.waitFor({ timeout: 30_000 });
    expect(await alertRow.getAttribute('data-state')).toBe('firing');
    expect(await alertRow.getAttribute('data-level')).toBe('critical');
    expect(await alertRow.getByTestId('alert-host').textContent()).toContain(os.hostname());
    await screenshot('alerts-page');
    await page.goto(`${stack.url}/hosts/${hostId}`);
    const card = page.getByTestId('host-alerts');
    await card.getByTestId('alert-row').filter({ hasText: 'CPU busy at all' }).waitFor({ timeout: 30_000 });
    await screenshot('host-page-alerts');

    // The channel's delivery log: the firing message, sent (recorded from the object's alarm).
    await page.goto(`${stack.url}/alerts/channels/${channelId}`);
    const sentFiring = page.locator('[data-testid="delivery-row"][data-kind="firing"][data-status="sent"]');
    await expect
      .poll(
        async () => {
          if ((await sentFiring.count()) === 0) await page.getByTestId('deliveries-refresh').click();
          return sentFiring.count();
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toBe(1);
    await screenshot('delivery-log');

    // The agent kept pushing over the line meanwhile: still the one firing message.
    expect(messages().firing).toHaveLength(1);
    expect(receiver.attempts.filter((a) => a.path === hookPath).every((a) => a.verified)).toBe(true);

    // Raise the threshold out of reach in the editor: the alert ends and its resolution goes out.
    await page.goto(`${stack.url}/alerts/rules/${ruleId}`);
    await expect.poll(() => page.getByTestId('rule-critical-threshold').inputValue(), { timeout: 15_000 }).toBe('0');
    await page.getByTestId('rule-critical-threshold').fill('100');
    await page.getByTestId('rule-critical-recovery').fill('');
    const editedAt = Date.now();
    await page.getByTestId('rule-save').click();
    await page.getByText('Saved “CPU busy at all”').waitFor();
    await page.locator('[data-testid="preview-status"][data-status="quiet"]').waitFor({ timeout: 30_000 });
    await screenshot('rule-edited');
    await until('the resolution webhook', () => messages().resolved.length > 0, 60_000, 200);
    const resolvedMs = Date.now() - editedAt;
    const [resolved] = messages().resolved;
    expect(resolved?.type).toBe('alert.resolved');
    expect(resolved?.data.alerts[0]).toMatchObject({ ruleId, hostId, state: 'resolved' });
    expect(resolved?.data.alerts[0]?.dedupKey).toBe(fired?.data.alerts[0]?.dedupKey);

    // The rule's alert leaves the active list. (Only this rule's: the default "High CPU" rule may be pending
    // on this very machine while the test suite keeps both cores busy.)
    await expect
      .poll(
        () =>
          page.evaluate(
            async (id) => (await (await fetch(`/api/v1/alerts?ruleId=${id}`)).json()).alerts.length,
            ruleId,
          ),
        { timeout: 30_000, interval: 1_000 },
      )
      .toBe(0);
    await page.goto(`${stack.url}/alerts`);
    await page.getByTestId('alerts-active').waitFor();
    await expect
      .poll(() => page.getByTestId('alert-row').filter({ hasText: 'CPU busy at all' }).count(), { timeout: 15_000 })
      .toBe(0);
    // A couple more pushes under the new threshold: nothing else arrives for the rule.
    await new Promise((resolve) => setTimeout(resolve, 2 * PUSH_MS));
    expect(messages().firing).toHaveLength(1);
    expect(messages().resolved).toHaveLength(1);
    expect(receiver.attempts.filter((a) => a.path === hookPath).every((a) => a.verified)).toBe(true);
    console.log(`alerting figures: ${JSON.stringify({ firedMs, resolvedMs })}`);
  }, 180_000);

  it('mails the owners when a host of an unconfigured organisation stops, and again when it is back', async () => {
    // Sign up and configure nothing: the built-in rules and e-mail channel are all there is.
    const email = 'linus.quiet@example.com';
    const api = new ApiSession(stack.url);
    await api.expect('POST', '/auth/signup', { email, password: 'nothing configured 1991', name: 'Linus Quiet' }, 201);
    await verifyFromOutbox(api, email);
    const key = CreatedApiKey.parse(await api.expect('POST', '/keys', { name: 'agent', scope: 'ingest' }, 201)).secret;
    const { home, agent } = await startEnrolledAgent(key);

    const hostDownMails = async (): Promise<{ firing: OutboxMessage[]; resolved: OutboxMessage[] }> => {
      const { messages } = OutboxList.parse(await api.expect('GET', '/dev/outbox', undefined, 200));
      const mine = messages.filter((m) => m.to === email && m.subject.includes('Host down'));
      return {
        firing: mine.filter((m) => m.subject.startsWith('[CRITICAL]')),
        resolved: mine.filter((m) => m.subject.startsWith('[RESOLVED]')),
      };
    };
    expect(await hostDownMails()).toEqual({ firing: [], resolved: [] });

    await stopAgent(agent);
    const stoppedAt = Date.now();
    // The grace runs from the last push; then the rule's group wait. Bounded, with room for the alarm.
    await until(
      'the host-down mail',
      async () => (await hostDownMails()).firing.length > 0,
      HOST_DOWN_GRACE_MS + DEFAULT_GROUP_WAIT_MS + 45_000,
      1_000,
    );
    const downMs = Date.now() - stoppedAt;
    const [down] = (await hostDownMails()).firing;
    expect(down?.text).toContain(os.hostname());
    expect(down?.text).toContain('/alerts');

    await runUntilPushed(home);
    const backAt = Date.now();
    await until('the resolution mail', async () => (await hostDownMails()).resolved.length > 0, 60_000, 1_000);
    const upMs = Date.now() - backAt;
    // A few more pushes: still one mail each way.
    await new Promise((resolve) => setTimeout(resolve, 2 * PUSH_MS));
    const final = await hostDownMails();
    expect(final.firing).toHaveLength(1);
    expect(final.resolved).toHaveLength(1);
    expect(final.resolved[0]?.text).toContain(os.hostname());
    console.log(`alerting figures: ${JSON.stringify({ hostDownMailMs: downMs, resolutionMailMs: upMs })}`);
  }, 240_000);
});
