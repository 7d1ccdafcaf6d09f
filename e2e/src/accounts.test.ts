import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type DevStack, REPO_ROOT, startDevStack } from '@pulsewire/stack';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchedBrowser, launchBrowser } from './browser.ts';

/**
 * The account journey of issue 3, entirely through the dashboard's pages on `pnpm dev`'s stack
 * (local mode, mail in the dev outbox): sign up → verify from the outbox → create an API key →
 * sign out → sign in → invite a colleague → the colleague accepts from the outbox, creates an
 * account and lands in the organisation as a viewer.
 */
describe('accounts in the browser', () => {
  let stack: DevStack;
  let browser: LaunchedBrowser;
  let dataDir: string;
  const shots = path.join(os.tmpdir(), 'pulsewire-accounts-shots');

  const owner = {
    name: 'Ada Owner',
    email: 'ada@example.com',
    password: 'correct horse battery',
    org: 'Analytical Engines',
  };
  const colleague = { name: 'Charles Viewer', email: 'charles@example.com', password: 'difference engine 2' };

  beforeAll(async () => {
    if (!fs.existsSync(path.join(REPO_ROOT, 'web/build/index.html'))) {
      throw new Error('web/build is missing: run `pnpm build` first (`pnpm test` does)');
    }
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-e2e-'));
    fs.mkdirSync(shots, { recursive: true });
    stack = await startDevStack({ dataDir });
    browser = await launchBrowser();
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /**
   * Screenshots of the main pages in light and dark, for people to look at. The theme goes through
   * the page's toggle; with a modal open (the toggle is behind it) the `dark` class is set directly.
   */
  async function screenshot(page: Page, name: string, options: { modal?: boolean } = {}): Promise<void> {
    const toggle = page.getByRole('button', { name: 'Dark mode' });
    const setDark = async (dark: boolean) => {
      if (options.modal) {
        await page.evaluate((d) => document.documentElement.classList.toggle('dark', d), dark);
      } else {
        await toggle.click();
      }
      await page.waitForFunction((d) => document.documentElement.classList.contains('dark') === d, dark);
    };
    // Toasts come and go; keep them out of the pictures.
    const style = '[data-sonner-toaster] { display: none !important; }';
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(shots, `${name}-light.png`), fullPage: true, style });
    await setDark(true);
    await page.screenshot({ path: path.join(shots, `${name}-dark.png`), fullPage: true, style });
    await setDark(false);
  }

  /** Opens the newest outbox mail to `to` whose subject matches, and follows its link containing `linkPart`. */
  async function followMailLink(page: Page, to: string, subject: RegExp, linkPart: string): Promise<void> {
    await page.goto(`${stack.url}/dev/outbox`);
    const message = page.getByTestId('outbox-message').filter({ hasText: to }).filter({ hasText: subject }).first();
    await message.click();
    await expect.poll(() => page.getByTestId('outbox-viewer-to').textContent()).toBe(to);
    await page.getByTestId('outbox-link').filter({ hasText: linkPart }).first().click();
  }

  async function signOut(page: Page): Promise<void> {
    await page.getByTestId('user-menu').click();
    await page.getByTestId('menu-sign-out').click();
    await page.waitForURL(/\/login$/);
  }

  it('shows inline errors on the sign-up and sign-in forms', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${stack.url}/signup`);
    await page.getByTestId('signup-form').waitFor();
    await screenshot(page, 'signup');

    // The browser's own validation is off (novalidate): the API's 422 names the field.
    await page.getByLabel('Work e-mail').fill('not-an-address');
    await page.getByLabel('Password', { exact: true }).fill('long enough password');
    await page.getByTestId('signup-submit').click();
    await page.getByTestId('email-error').waitFor();
    expect(await page.getByTestId('email-error').textContent()).toMatch(/e-mail/i);
    expect(await page.getByLabel('Work e-mail').getAttribute('aria-invalid')).toBe('true');

    await page.goto(`${stack.url}/login`);
    await page.getByLabel('E-mail').fill('nobody@example.com');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('form-error').waitFor();
    expect(await page.getByTestId('form-error').textContent()).toMatch(/incorrect/i);
    await screenshot(page, 'login-error');

    // A protected page sends a signed-out visitor to sign in, remembering where they were going.
    await page.goto(`${stack.url}/settings/api-keys`);
    await page.waitForURL(/\/login\?next=%2Fsettings%2Fapi-keys$/);
    await page.close();
  });

  it('signs up, verifies, creates a key, invites a colleague who joins as a viewer', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });

    // ── sign up ──────────────────────────────────────────────────────────────────────────
    await page.goto(`${stack.url}/signup`);
    await page.getByLabel('Your name').fill(owner.name);
    await page.getByLabel('Work e-mail').fill(owner.email);
    await page.getByLabel('Password', { exact: true }).fill(owner.password);
    await page.getByLabel('Organisation name (optional)').fill(owner.org);
    await page.getByTestId('signup-submit').click();
    await page.getByTestId('signup-done').waitFor();
    await screenshot(page, 'signup-done');

    // ── verify from the dev outbox ───────────────────────────────────────────────────────
    await page.getByTestId('open-outbox').click();
    await page.waitForURL(/\/dev\/outbox$/);
    await page.getByTestId('outbox-message').first().waitFor();
    await screenshot(page, 'outbox');
    await followMailLink(page, owner.email, /verify/i, '/verify?token=');
    await page.getByTestId('verify-success').waitFor();
    await screenshot(page, 'verify-success');
    // A fresh organisation has no hosts: its admin lands on the onboarding page to add the first one.
    await page.getByTestId('verify-continue').click();
    await page.waitForURL(/\/hosts\/new$/);
    await page.getByTestId('user-menu').waitFor();
    expect(await page.getByTestId('current-org').textContent()).toBe(owner.org);
    expect(await page.getByTestId('current-role').textContent()).toBe('owner');
    // Verified by the link: no "verify your e-mail" banner.
    expect(await page.getByTestId('unverified-banner').count()).toBe(0);

    // ── create an API key: the secret is shown once, with a copy button ─────────────────
    await page.getByTestId('nav-api-keys').click();
    await page.waitForURL(/\/settings\/api-keys$/);
    await page.getByTestId('no-keys').waitFor();
    await page.getByTestId('create-key').click();
    await page.getByLabel('Name', { exact: true }).fill('Production servers');
    await page.getByTestId('scope-ingest').click();
    await page.getByTestId('create-key-submit').click();
    const secretBox = page.getByTestId('key-secret');
    await secretBox.waitFor();
    const secret = (await secretBox.textContent())?.trim() ?? '';
    expect(secret).toMatch(/^pw_live_[\w-]{20,}$/);
    expect(await page.getByTestId('key-reveal').textContent()).toMatch(/only time you will see this key/i);
    await screenshot(page, 'api-key-reveal', { modal: true });
    await page.getByTestId('copy-key').click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await page.getByTestId('key-reveal-done').click();
    await page.getByTestId('key-row').first().waitFor();
    expect(await page.getByTestId('key-row').count()).toBe(1);
    expect(await page.getByTestId('key-prefix').textContent()).toBe(`${secret.slice(0, 'pw_live_'.length + 6)}…`);
    expect(await page.getByTestId('key-scope').textContent()).toBe('ingest');
    // Gone for good: the page never shows the secret again.
    expect(await page.content()).not.toContain(secret);
    await screenshot(page, 'api-keys');

    // ── sign out, sign in again ──────────────────────────────────────────────────────────
    await signOut(page);
    await page.getByLabel('E-mail').fill(owner.email);
    await page.getByLabel('Password').fill(owner.password);
    await page.getByTestId('login-submit').click();
    await page.waitForURL(/\/hosts\/new$/);
    await page.getByTestId('user-menu').waitFor();
    await screenshot(page, 'home-signed-in');

    await page.getByTestId('nav-account').click();
    await page.waitForURL(/\/settings\/account$/);
    expect(await page.getByTestId('account-email').textContent()).toBe(owner.email);
    await page.getByTestId('email-verified').waitFor();
    await screenshot(page, 'account');

    // ── invite a colleague ───────────────────────────────────────────────────────────────
    await page.getByTestId('nav-organization').click();
    await page.waitForURL(/\/settings\/organization$/);
    await page.getByTestId('member-row').first().waitFor();
    await page.getByLabel('E-mail address').fill(colleague.email);
    expect(await page.getByTestId('invite-role').textContent()).toContain('Viewer');
    await page.getByTestId('invite-submit').click();
    await page.getByTestId('invitation-row').filter({ hasText: colleague.email }).waitFor();
    await screenshot(page, 'organization');
    await page.getByTestId('user-menu').click();
    await page.getByTestId('menu-sign-out').waitFor();
    await page.screenshot({ path: path.join(shots, 'user-menu-light.png') });
    await page.getByTestId('menu-sign-out').click();
    await page.waitForURL(/\/login$/);

    // ── the colleague accepts from the outbox and creates an account ─────────────────────
    await followMailLink(page, colleague.email, /invited/i, '/invitations/accept?token=');
    await page.getByTestId('accept-create').waitFor();
    await screenshot(page, 'accept-invitation');
    await page.getByLabel('Your name').fill(colleague.name);
    await page.getByLabel('Choose a password').fill(colleague.password);
    await page.getByTestId('accept-submit').click();
    await page.getByTestId('accept-done').waitFor();
    expect(await page.getByTestId('accept-role').textContent()).toBe('viewer');
    await page.getByTestId('accept-continue').click();
    // A viewer cannot add hosts: the empty hosts list explains who can.
    await page.waitForURL(/\/hosts$/);
    await page.getByTestId('no-hosts').waitFor();
    expect(await page.getByTestId('onboard-first-host').count()).toBe(0);
    // Typing the onboarding address explains that admins add hosts, and creates no key.
    await page.goto(`${stack.url}/hosts/new`);
    await page.getByTestId('onboarding-viewer').waitFor();
    expect(await page.getByTestId('onboarding-create-key').count()).toBe(0);
    await page.goto(`${stack.url}/status`);

    // In the owner's organisation, as a viewer: no admin-only navigation or actions.
    await page.getByTestId('user-menu').waitFor();
    expect(await page.getByTestId('current-org').textContent()).toBe(owner.org);
    expect(await page.getByTestId('current-role').textContent()).toBe('viewer');
    expect(await page.getByTestId('nav-organization').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('nav-api-keys').count()).toBe(0);
    expect(await page.getByTestId('mobile-nav-api-keys').count()).toBe(0);

    await page.getByTestId('nav-organization').click();
    await page.waitForURL(/\/settings\/organization$/);
    await page.getByTestId('member-row').nth(1).waitFor();
    expect(await page.getByTestId('my-role').textContent()).toBe('viewer');
    expect(await page.getByTestId('member-row').filter({ hasText: owner.email }).count()).toBe(1);
    expect(await page.getByTestId('invite-section').count()).toBe(0);
    expect(await page.getByTestId('danger-zone').count()).toBe(0);
    expect(await page.getByTestId('member-role-select').count()).toBe(0);
    expect(await page.getByTestId('remove-member').count()).toBe(0);
    await screenshot(page, 'organization-viewer');

    // Typing the address of the API keys page shows why it is not available, and no key controls.
    await page.goto(`${stack.url}/settings/api-keys`);
    await page.getByTestId('admin-only').waitFor();
    expect(await page.getByTestId('create-key').count()).toBe(0);
    expect(await page.getByTestId('keys-table').count()).toBe(0);
    await screenshot(page, 'api-keys-viewer');
    await page.close();
  });
});
