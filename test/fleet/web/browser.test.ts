/**
 * The dashboard in a real browser: Debian's headless Chromium driven by puppeteer-core. It loads the fleet table,
 * filters and pages it, opens a terminal's page and checks its chart was drawn, acknowledges an alert, sends a
 * command and finds it in the audit trail. Each page is saved to docs/dashboard/*.png on the way, so the README's
 * screenshots are rewritten by every run; the fleet, the clock and the viewport are fixed, so they stay the same
 * unless the pages change.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../support/cli.js';
import { demoDashboard, demoFleet } from './support.js';

const CHROMIUM = process.env['POS_CHROMIUM'] ?? '/usr/bin/chromium';
const SHOTS = join(repoRoot, 'docs', 'dashboard');
const haveChromium = existsSync(CHROMIUM);

const title = haveChromium
  ? 'the dashboard in headless Chromium'
  : `the dashboard in headless Chromium: SKIPPED, no browser at ${CHROMIUM} (apt-get install chromium, or set POS_CHROMIUM)`;

describe.skipIf(!haveChromium)(title, () => {
  let browser: Browser;
  let page: Page;
  let base: string;
  let close: () => Promise<void>;
  let sent: { name: string; terminalId: string }[];

  beforeAll(async () => {
    const demo = await demoFleet(30);
    const d = await demoDashboard(demo, { pageSize: 25 });
    sent = d.sent;
    await d.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(d.app.server.address() as AddressInfo).port}`;
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--font-render-hinting=none',
        '--hide-scrollbars',
      ],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
    await page.emulateTimezone('UTC');
    mkdirSync(SHOTS, { recursive: true });
    close = async () => {
      await browser.close();
      await d.app.close();
      d.audit.close();
    };
  }, 60_000);
  afterAll(async () => close?.());

  const rowKeys = () => page.$$eval('#fleet-table tbody tr', (rows) => rows.map((r) => r.getAttribute('data-key')));
  const text = (selector: string) => page.$eval(selector, (e) => e.textContent ?? '');
  // Conditions evaluated in the page (as source text: this file is compiled without the DOM's types).
  const until = (condition: string) => page.waitForFunction(condition);
  const rangeStarts = (prefix: string) =>
    until(`document.querySelector('#range')?.textContent?.startsWith(${JSON.stringify(prefix)})`);

  it('shows the fleet table, filters it by status and pages through it', async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector('#fleet-table tbody tr');
    expect(await rowKeys()).toHaveLength(25);
    expect(await text('#range')).toBe('1–25 of 60 · page 1 of 3');
    expect(await text('#summary')).toContain('60 terminals');
    await page.screenshot({ path: join(SHOTS, 'fleet.png') });

    await page.select('#filter-status', 'locked');
    await page.click('#filters button[type=submit]');
    await rangeStarts('1–6 of 6');
    const statuses = await page.$$eval('#fleet-table tbody tr .badge', (b) => b.map((x) => x.textContent));
    expect(statuses).toEqual(Array(6).fill('locked'));

    await page.select('#filter-status', '');
    await page.type('#filter-text', 'shop-paris');
    await page.click('#filters button[type=submit]');
    await rangeStarts('1–25 of 30');
    await page.click('#next');
    await rangeStarts('26–30 of 30');
    expect(await rowKeys()).toEqual([26, 27, 28, 29, 30].map((n) => `shop-paris-01/TERM00${n}`));
    expect(page.url()).toBe(`${base}/?q=shop-paris&page=2`);
  });

  it('opens a terminal page with its current view, its timeline and a drawn chart', async () => {
    await page.goto(`${base}/?q=TERM0009`);
    await page.waitForSelector('#fleet-table tbody tr');
    await Promise.all([page.waitForNavigation(), page.click('a[href="/terminals/shop-paris-01/TERM0009"]')]);
    await page.waitForSelector('#chart[data-drawn] canvas');
    await page.waitForSelector('#timeline li.anomaly');
    // Pixels the chart library painted on its canvas (alpha above 0).
    const inked = (await page.evaluate(`(() => {
      const c = document.querySelector('#chart canvas');
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    })()`)) as number;
    expect(inked).toBeGreaterThan(500);
    expect(await text('#current')).toContain('anomalous');
    expect(await page.$$eval('#timeline li.anomaly', (l) => l.length)).toBe(3);
    await page.screenshot({ path: join(SHOTS, 'terminal.png'), fullPage: true });
  });

  it('acknowledges an alert', async () => {
    await page.goto(`${base}/alerts`);
    await page.waitForSelector('#alerts tr[data-alert-id] button.ack');
    const id = await page.$eval('#alerts tr[data-alert-id]', (r) => r.getAttribute('data-alert-id'));
    await page.click(`#alerts tr[data-alert-id="${id}"] button.ack`);
    await until(`document.querySelector('tr[data-alert-id="${id}"] .badge')?.textContent === 'acknowledged'`);
    expect(await text(`tr[data-alert-id="${id}"]`)).toContain('ops@fleet');
    await page.screenshot({ path: join(SHOTS, 'alerts.png'), fullPage: true });
  });

  it('sends a command and shows it in the audit trail', async () => {
    await page.goto(`${base}/commands`);
    await page.waitForSelector('#command-form');
    await page.type('#command-fleet', 'shop-paris-01');
    await page.type('#command-terminal', 'TERM0008');
    await page.select('#command-name', 'run-self-test');
    await page.click('#command-form button[type=submit]');
    await until(`document.querySelector('#audit-table .outcome-ok')?.textContent === 'ok'`);
    expect(sent).toEqual([expect.objectContaining({ name: 'run-self-test', terminalId: 'TERM0008' })]);
    const row = await text('#audit-table tbody tr');
    expect(row).toContain('shop-paris-01/TERM0008');
    expect(row).toContain('ops@fleet');
    await page.screenshot({ path: join(SHOTS, 'commands.png') });
  });
});
