/**
 * GET /dashboard in a real browser (Debian's headless Chromium driven by
 * playwright-core, as the docs page test): a project goes through bootstrap,
 * a redeploy on drifted data and a failed tick while the page stays open, and
 * the test reads what a person would see after each step, without reloading:
 * the status strip's words (the failure warning included), the rows of the
 * ticks table, both versions, a drift chart per drifted feature, the call
 * list's first id. No console errors, no request leaves 127.0.0.1 (others are
 * intercepted and aborted), and axe-core finds no serious or critical
 * accessibility violation. With api.token set: without the token the page
 * shows no figure and every data request is 401; with it everything shows, and
 * the token is in no access-log line.
 *
 * Screenshots (fresh project, after the redeploy) go to $DASHBOARD_SCREENSHOTS
 * when set (to look at them), else to a temp folder.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startServer, type RunningApp } from '../src/app.js';
import type { Logger } from '../src/lib/log.js';
import { silentLogger } from '../src/lib/log.js';
import { dashboardProject, BAD_FILE, type DashboardProject } from './dashboard-project.js';
import { OFFLINE_DEPS, tempFolder } from './helpers.js';

// The functions passed to page.waitForFunction and page.evaluate run in the page, where these exist.
declare const document: any;
declare const window: any;
declare const sessionStorage: any;
declare const localStorage: any;

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const skip = fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (.ci/run installs Debian's chromium with apt-get)`;
/** The page must show a change within this long of a tick (the promise). */
const UPDATE_MS = 15_000;
const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const screenshots = process.env.DASHBOARD_SCREENSHOTS ?? tempFolder('risk-dashboard-shots-');

let browser: BrowserContext;
const servers: RunningApp[] = [];

before(async () => {
  if (skip) return;
  browser = await chromium.launchPersistentContext(tempFolder('risk-chromium-'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 1000 },
  });
});
after(async () => {
  await browser?.close();
  await Promise.all(servers.map((server) => server.close()));
});

async function serve(project: DashboardProject, log: Logger = silentLogger): Promise<RunningApp> {
  const server = await startServer(project.config, { port: 0, host: '127.0.0.1' }, log, OFFLINE_DEPS);
  servers.push(server);
  return server;
}

/** What a page did: requests, those refused for leaving 127.0.0.1, failures, console errors, and data answers by status. */
interface Watched {
  page: Page;
  requests: string[];
  outside: string[];
  consoleErrors: string[];
  dataStatuses: number[];
  navigations: number;
}

async function openPage(): Promise<Watched> {
  const page = await browser.newPage();
  const watched: Watched = { page, requests: [], outside: [], consoleErrors: [], dataStatuses: [], navigations: 0 };
  await page.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.hostname === '127.0.0.1') return route.continue();
    watched.outside.push(url.href);
    return route.abort();
  });
  page.on('request', (req) => watched.requests.push(req.url()));
  page.on('response', (res) => {
    if (new URL(res.url()).pathname.startsWith('/dashboard/data/')) watched.dataStatuses.push(res.status());
  });
  page.on('console', (message) => {
    if (message.type() === 'error') watched.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => watched.consoleErrors.push(error.message));
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) watched.navigations++;
  });
  return watched;
}

const text = async (page: Page, selector: string): Promise<string> =>
  ((await page.textContent(selector)) ?? '').replace(/\s+/g, ' ').trim();

/** Waits until the headline reads `words` (the poll brings it within UPDATE_MS of the tick). */
async function headlineBecomes(page: Page, words: string): Promise<void> {
  await page.waitForFunction((expected) => document.getElementById('headline')?.textContent === expected, words, { timeout: UPDATE_MS });
}

const tickRows = (page: Page): Promise<number> => page.locator('#ticks-table tbody tr[data-outcome]').count();

/** Serious and critical axe-core violations of the page as it is. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run({ resultTypes: ['violations'] }));
  return (result.violations as { id: string; impact: string; nodes: unknown[] }[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}, ${v.nodes.length} nodes)`);
}

describe('the dashboard in headless Chromium', { skip }, () => {
  test('follows a project through bootstrap, redeploy and a failed tick without a reload', { timeout: 180_000 }, async (t) => {
    const project = dashboardProject();
    const server = await serve(project);
    const watched = await openPage();
    const { page } = watched;

    await page.goto(`${server.url}/`);
    assert.equal(new URL(page.url()).pathname, '/dashboard', 'GET / redirects to the dashboard');
    await headlineBecomes(page, 'Nothing is deployed');
    assert.match(await text(page, '.warning[data-kind="undeployed"]'), /Nothing is deployed/);
    assert.equal(await tickRows(page), 0);
    await page.evaluate(() => (window.stayed = true));
    await page.waitForSelector('#data-note:has-text("No data ingested yet")');
    await page.screenshot({ path: path.join(screenshots, 'dashboard-fresh.png'), fullPage: true });
    assert.deepEqual(await axeViolations(page), [], 'axe on the fresh page');

    await t.test('bootstrap: version 1 serves, one tick', async () => {
      assert.equal((await project.bootstrap()).outcome, 'bootstrapped');
      await headlineBecomes(page, 'Healthy: the newest check found no reason to retrain');
      await page.waitForFunction(() => document.querySelectorAll('#ticks-table tbody tr[data-outcome]').length === 1, null, {
        timeout: UPDATE_MS,
      });
      assert.match(await text(page, '#served'), /^version 1 since /);
      assert.match(await text(page, '#newest-tick'), /bootstrapped/);
      assert.equal(await page.locator('.warning').count(), 0, 'no warning on a healthy project');
    });

    await t.test('redeploy: both versions, a drift chart per drifted feature, the call list', async () => {
      const tick = await project.redeploy();
      assert.equal(tick.outcome, 'redeployed');
      await headlineBecomes(page, 'Drift found and retrained: a new version was deployed');
      await page.waitForFunction(() => document.querySelectorAll('#versions-table tbody tr[data-version]').length === 2, null, {
        timeout: UPDATE_MS,
      });
      assert.match(await text(page, '#served'), /^version 2 since /);
      assert.equal(await tickRows(page), 2);
      const versions = await page.$$eval('#versions-table tbody tr[data-version]', (rows) =>
        rows.map((row) => row.getAttribute('data-version')),
      );
      assert.deepEqual(versions, ['2', '1'], 'newest first');
      assert.match(await text(page, '#versions-table tr[data-version="1"]'), /npm run deployment -- --rollback 1/);
      assert.match(await text(page, '#versions-table tr[data-version="2"]'), /candidate test F1 0\.\d{4} vs deployed 0\.\d{4}/);

      const drifted = Object.entries(tick.data_drift!).flatMap(([feature, d]) => (d.drifted ? [feature] : []));
      assert.ok(drifted.length > 0, 'the drifted data drifts');
      await page.waitForSelector('#drift-charts figure');
      for (const feature of drifted) {
        const chart = page.locator(`#drift-charts figure[data-feature="${feature}"][data-drifted="true"] img`);
        assert.equal(await chart.count(), 1, `a drift chart for ${feature}`);
        assert.ok(((await chart.getAttribute('alt')) ?? '').includes(feature), `the chart of ${feature} says what it shows`);
        assert.ok(await chart.evaluate((img: any) => img.complete && img.naturalWidth > 100), `the chart of ${feature} is drawn`);
      }
      assert.ok(await page.locator('#psi-chart img').count(), 'the PSI history is drawn');
      assert.ok(await page.locator('#timeline img').count(), 'the timeline is drawn');
      assert.ok(await page.locator('#f1-chart img').count(), 'the F1 chart is drawn');

      const risk = (await (await fetch(`${server.url}/risk?top=1`)).json()) as { clients: Record<string, unknown>[] };
      const firstId = String(risk.clients[0].corporation);
      await page.waitForFunction((id) => document.querySelector('#clients-table tbody tr td.id')?.textContent === id, firstId, {
        timeout: UPDATE_MS,
      });
      await page.waitForFunction(() => document.querySelectorAll('#data-table tbody tr').length > 0);
      await page.screenshot({ path: path.join(screenshots, 'dashboard-redeployed.png'), fullPage: true });

      // Searching the call list by part of an id.
      await page.fill('#client-search', firstId.slice(0, 3).toUpperCase());
      await page.waitForFunction(() => /match/.test(document.getElementById('clients-range')?.textContent ?? ''));
      const ids = await page.$$eval('#clients-table tbody td.id', (cells) => cells.map((cell) => cell.textContent ?? ''));
      assert.ok(ids.length > 0 && ids.every((id) => id.includes(firstId.slice(0, 3))), `search results: ${ids.join(', ')}`);
    });

    await t.test('a failed tick: the warning names it', async () => {
      assert.equal((await project.fail()).outcome, 'failed');
      await headlineBecomes(page, 'Failing: the newest tick failed');
      const warning = await text(page, '.warning[data-kind="failed"]');
      assert.match(warning, /^Warning: The newest tick that had work failed/);
      assert.ok(warning.includes(BAD_FILE), warning);
      await page.waitForFunction(() => document.querySelectorAll('#ticks-table tbody tr[data-outcome]').length === 3, null, {
        timeout: UPDATE_MS,
      });
      assert.equal(await page.getAttribute('#ticks-table tbody tr:first-child', 'data-outcome'), 'failed');

      // The outcome filter and paging of the ticks table.
      await page.selectOption('#outcome-filter', 'failed');
      await page.waitForFunction(() => document.querySelectorAll('#ticks-table tbody tr[data-outcome]').length === 1);
      assert.match(await text(page, '#ticks-range'), /1–1 of 1/);
      await page.selectOption('#outcome-filter', '');
      await page.waitForFunction(() => document.querySelectorAll('#ticks-table tbody tr[data-outcome]').length === 3);
    });

    assert.equal(await page.evaluate(() => window.stayed), true, 'the page was never reloaded');
    assert.equal(watched.navigations, 1, 'one navigation (to / and its redirect)');
    assert.deepEqual(await axeViolations(page), [], 'axe after the steps');
    assert.deepEqual(watched.outside, [], 'no request leaves 127.0.0.1');
    assert.deepEqual(watched.consoleErrors, [], 'no console errors');
    assert.ok(
      watched.dataStatuses.every((status) => status === 200),
      `data answers: ${watched.dataStatuses.join(' ')}`,
    );
    t.diagnostic(`screenshots in ${screenshots}`);
    await page.close();
  });

  test('with api.token: nothing without the token, everything with it, the token in no log line', { timeout: 120_000 }, async () => {
    const TOKEN = 'dashboard-sesame-4711';
    const lines: string[] = [];
    const log: Logger = {
      debug: (message, fields) => lines.push(JSON.stringify({ message, fields })),
      info: (message, fields) => lines.push(JSON.stringify({ message, fields })),
      warn: (message, fields) => lines.push(JSON.stringify({ message, fields })),
      error: (message, fields) => lines.push(JSON.stringify({ message, fields })),
      child: () => log,
    };
    const project = dashboardProject({ api: { token: TOKEN } });
    await project.bootstrap();
    await project.redeploy();
    const server = await serve(project, log);
    const watched = await openPage();
    const { page } = watched;

    await page.goto(`${server.url}/dashboard`);
    await page.waitForSelector('#token-form:not([hidden])');
    const unauthorized = watched.dataStatuses.filter((status) => status !== 401);
    assert.ok(watched.dataStatuses.length > 0 && unauthorized.length === 0, watched.dataStatuses.join(' '));
    assert.equal(await page.locator('img').count(), 0, 'no chart without the token');
    assert.equal(await page.locator('section:not([hidden])').count(), 0, 'no section without the token');
    assert.equal(await page.locator('table tbody tr').count(), 0, 'no table row without the token');
    for (const route of ['status', 'ticks', 'timeline', 'versions', 'drift', 'clients', 'summary'])
      assert.equal((await fetch(`${server.url}/dashboard/data/${route}`)).status, 401, `${route} without the token`);
    assert.equal((await fetch(`${server.url}/dashboard/files/report.pdf`)).status, 401);

    // A wrong token is refused and asked again.
    await page.fill('#token-input', 'not-the-token');
    await page.click('#token-form button');
    await page.waitForFunction(() => /refused/.test(document.getElementById('token-error')?.textContent ?? ''));

    watched.dataStatuses.length = 0;
    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button');
    await headlineBecomes(page, 'Drift found and retrained: a new version was deployed');
    await page.waitForFunction(
      () =>
        document.querySelectorAll('#drift-charts figure img').length > 0 && document.querySelectorAll('#clients-table tbody tr').length > 0,
    );
    assert.equal(await page.locator('#versions-table tbody tr[data-version]').count(), 2);
    assert.equal(await page.locator('#token-form').isHidden(), true);
    assert.ok(
      watched.dataStatuses.every((status) => status === 200),
      watched.dataStatuses.join(' '),
    );

    // The download carries the token in its header, not in a URL.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button[data-file="riskscores.csv"]')]);
    assert.equal(download.suggestedFilename(), 'riskscores.csv');
    assert.match(fs.readFileSync(await download.path(), 'utf8'), /^rank,corporation,probability/);

    assert.equal(await page.evaluate(() => sessionStorage.getItem('risk-dashboard-token')), TOKEN, 'kept for the tab');
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing kept beyond the tab');
    assert.ok(!watched.requests.some((url) => url.includes(TOKEN)), 'the token is in no URL');
    assert.ok(!(await page.content()).includes(TOKEN), 'the token is not on the page');
    assert.ok(
      lines.some((line) => line.includes('/dashboard/data/status')),
      'the access log saw the requests',
    );
    assert.ok(!lines.some((line) => line.includes(TOKEN)), 'the token is in no log line');
    assert.deepEqual(watched.outside, []);
    await page.close();
  });
});
