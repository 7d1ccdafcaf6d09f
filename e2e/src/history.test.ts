import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type DevStack, REPO_ROOT, startDevStack } from '@pulsewire/stack';
import { seedHostHistory } from '@pulsewire/stack/history-seed';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchedBrowser, launchBrowser } from './browser.ts';
import { runAgent, signUpWithIngestKey } from './support.ts';

/**
 * Issue 12 in the browser: a host with seeded history (raw chunks and rollups written by the Worker's own
 * compaction code, as `pnpm seed:history` does) is switched to 30 d and then 1 y; the charts redraw from the
 * history API with coarser buckets, the range survives a reload, the events timeline shows the host's jobs,
 * and the export link downloads a CSV with a file name.
 *
 * The page's side is read from test hooks: `data-loaded` on the history charts (the range whose answers are
 * all drawn), `data-points` / `data-step-ms` per chart.
 */
const SEEDED_DAYS = 2;

describe('history on the host page', () => {
  let stack: DevStack;
  let browser: LaunchedBrowser;
  let dataDir: string;
  let agentHome: string;
  let hostId = '';
  let seeded = { start: 0, end: 0 };
  const owner = { name: 'Ada History', email: 'ada.history@example.com', password: 'analytical engine 1843' };

  beforeAll(async () => {
    if (!fs.existsSync(path.join(REPO_ROOT, 'web/build/index.html'))) {
      throw new Error('web/build is missing: run `pnpm build` first (`pnpm test` does)');
    }
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-e2e-history-'));
    agentHome = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-e2e-history-agent-'));
    stack = await startDevStack({ dataDir });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    for (const dir of [dataDir, agentHome]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The history charts' state as the page shows it: the range drawn and each chart's filled buckets and step. */
  async function drawn(
    page: Page,
  ): Promise<{ loaded: string | null; charts: Record<string, { points: number; stepMs: number }> }> {
    return page.evaluate(() => {
      const root = document.querySelector('[data-testid="history-charts"]');
      const charts: Record<string, { points: number; stepMs: number }> = {};
      for (const el of document.querySelectorAll('[data-testid="history-chart"]')) {
        charts[el.getAttribute('data-chart') ?? '?'] = {
          points: Number(el.getAttribute('data-points')),
          stepMs: Number(el.getAttribute('data-step-ms')),
        };
      }
      return { loaded: root?.getAttribute('data-loaded') ?? null, charts };
    });
  }

  async function waitForRange(page: Page, range: string) {
    await page.locator(`[data-testid="history-charts"][data-loaded="${range}"]`).waitFor({ timeout: 60_000 });
  }

  it('enrolls a host and seeds its history', async () => {
    const key = await signUpWithIngestKey(browser.context.request, stack.url, owner);
    const enrolled = runAgent(agentHome, ['enroll', '--key', key, '--url', stack.url]);
    expect((await enrolled.exited).code, enrolled.output()).toBe(0);
    hostId = (JSON.parse(fs.readFileSync(path.join(agentHome, 'agent.json'), 'utf8')) as { hostId: string }).hostId;

    // The jobs set the watermarks the seeded history ends at (and create this hour's partitions).
    const jobs = await browser.context.request.post(`${stack.url}/api/v1/dev/jobs/run`, {
      headers: { Origin: stack.url },
    });
    expect(jobs.status(), await jobs.text()).toBe(200);
    seeded = await seedHostHistory(stack.database.databaseUrl, { hostId, days: SEEDED_DAYS });
    expect(seeded.end - seeded.start).toBe(SEEDED_DAYS * 24 * 3_600_000);

    // Two jobs in the last hour for the events timeline, one of them failed.
    const client = new pg.Client({ connectionString: stack.database.databaseUrl });
    await client.connect();
    try {
      const now = Date.now();
      const event = (minutesAgo: number, kind: string, subject: string, name: string) =>
        client.query(
          `INSERT INTO app_events (tenant_id, host_id, ts, kind, subject_id, name)
           SELECT tenant_id, id, $2, $3, $4, $5 FROM hosts WHERE id = $1`,
          [hostId, new Date(now - minutesAgo * 60_000), kind, subject, name],
        );
      await event(40, 'job.started', 'backup-1', 'nightly backup');
      await event(30, 'job.progress', 'backup-1', 'nightly backup');
      await event(20, 'job.completed', 'backup-1', 'nightly backup');
      await event(15, 'job.started', 'reindex-7', 'reindex');
      await event(5, 'job.failed', 'reindex-7', 'reindex');
    } finally {
      await client.end();
    }
  });

  it('redraws the charts at 30 d and 1 y, keeps the range in the URL, and shows the jobs', async () => {
    expect(hostId).not.toBe('');
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${stack.url}/hosts/${hostId}`);
    // The page opens live, as before.
    await page.getByTestId('range-picker').waitFor();
    expect(await page.getByTestId('range-live').getAttribute('aria-current')).toBe('true');

    await page.getByTestId('range-30d').click();
    await waitForRange(page, '30d');
    expect(new URL(page.url()).searchParams.get('range')).toBe('30d');
    const month = await drawn(page);
    for (const id of ['cpu', 'memory', 'load', 'disk-io', 'disks']) {
      // The seeded days hold a value in every bucket they cover; no chart draws the 28 empty days as values.
      expect(month.charts[id]?.points, `${id} at 30 d: ${JSON.stringify(month.charts[id])}`).toBeGreaterThan(0);
      expect(month.charts[id]?.points).toBeLessThanOrEqual(
        Math.ceil((SEEDED_DAYS * 24 * 3_600_000) / (month.charts[id]?.stepMs ?? 1)) + 2,
      );
    }
    // The synthetic host has a GPU and containers: their charts appear from history alone.
    expect(Object.keys(month.charts)).toEqual(expect.arrayContaining(['gpu:0', 'containers-cpu', 'containers-memory']));
    await expect
      .poll(() => page.locator('[data-chart="cpu"] [data-testid="history-chart"] path').count())
      .toBeGreaterThan(0);

    await page.getByTestId('range-1y').click();
    await waitForRange(page, '1y');
    const year = await drawn(page);
    expect(year.charts.cpu?.points).toBeGreaterThan(0);
    // A year is drawn from coarser buckets than a month, so each chart stays around its width in points.
    expect(year.charts.cpu?.stepMs).toBeGreaterThan(month.charts.cpu?.stepMs ?? 0);
    expect(year.charts.cpu?.points).toBeLessThan(month.charts.cpu?.points ?? 0);

    await page.reload();
    await waitForRange(page, '1y');
    expect(await page.getByTestId('range-1y').getAttribute('aria-current')).toBe('true');

    const timeline = page.getByTestId('events-timeline');
    await expect.poll(() => timeline.getAttribute('data-events')).toBe('5');
    const lanes = timeline.getByTestId('event-lane');
    expect(await lanes.count()).toBe(2);
    expect(await timeline.locator('[data-testid="event-lane"][data-outcome="failed"]').count()).toBe(1);
    expect(await timeline.locator('[data-kind="job.completed"]').count()).toBe(1);
    await page.close();
  });

  it('compares the host on one metric in the compare view', async () => {
    expect(hostId).not.toBe('');
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${stack.url}/compare?series=memory.used_pct&range=30d`);
    // No hosts named: the first ones by name are ticked.
    const box = page.locator(`[data-testid="compare-host"][data-host-id="${hostId}"]`);
    await expect.poll(() => box.isChecked(), { timeout: 30_000 }).toBe(true);
    const chart = page.getByTestId('compare-chart');
    await page.locator('[data-testid="compare-card"][data-loaded="memory.used_pct 30d"]').waitFor({ timeout: 60_000 });
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThan(0);
    expect(await page.getByTestId('compare-metric').inputValue()).toBe('memory.used_pct');
    await page.close();
  });

  it('exports the range as CSV from the export link', async () => {
    expect(hostId).not.toBe('');
    const page = await browser.context.newPage();
    await page.goto(`${stack.url}/hosts/${hostId}?range=30d`);
    await waitForRange(page, '30d');

    const link = page.locator('[data-chart="cpu"] [data-testid="chart-export"]');
    const href = await link.getAttribute('href');
    expect(href).toBeTruthy();
    const url = new URL(href ?? '', stack.url);
    expect(url.searchParams.get('format')).toBe('csv');
    expect(url.searchParams.getAll('series')).toEqual(['cpu.total', 'cpu.user', 'cpu.system', 'cpu.iowait']);
    // The whole-page export names every chart's series.
    const all = new URL((await page.getByTestId('export-csv').getAttribute('href')) ?? '', stack.url);
    expect(all.searchParams.getAll('series')).toEqual(expect.arrayContaining(['cpu.total', 'disk.used_pct', 'net.rx']));

    // Clicking downloads it under the server's file name.
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), link.click()]);
    expect(download.suggestedFilename()).toMatch(/^pulsewire-.+\.csv$/);

    // The same URL with the page's session: header, rows of the seeded range, attachment.
    const res = await browser.context.request.get(url.toString(), { timeout: 60_000 });
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toContain('text/csv');
    expect(res.headers()['content-disposition']).toMatch(/^attachment; filename="pulsewire-[^"]+\.csv"$/);
    const lines = (await res.text()).trimEnd().split('\n');
    expect(lines[0]).toBe('time,series,value,min,max,count');
    const rows = lines.slice(1).map((line) => line.split(','));
    // Two days of 10 s samples of four series, at least (the seeded hours; later ones are the stack's own).
    expect(rows.length).toBeGreaterThanOrEqual(SEEDED_DAYS * 8640 * 4);
    const first = rows[0] ?? [];
    expect(Date.parse(first[0] ?? '')).toBeGreaterThanOrEqual(seeded.start);
    expect(first[1]).toMatch(/^"cpu\.(total|user|system|iowait)"$/);
    expect(Number.isFinite(Number(first[2]))).toBe(true);
    expect(new Set(rows.map((r) => r[1]))).toEqual(
      new Set(['"cpu.total"', '"cpu.user"', '"cpu.system"', '"cpu.iowait"']),
    );
    await page.close();
  });
});
