/**
 * GET /docs in a real browser: Debian's headless Chromium, driven by
 * playwright-core (which downloads nothing and uses the installed browser),
 * loads the page from a real server. Every request the page makes goes to the
 * server itself (no CDN) and none fails, the console stays free of errors
 * (the content security policy allows what the page loads), and the page
 * shows every operation of the OpenAPI document, by the loopback address and
 * by a host name over plain HTTP. The screenshot goes to
 * $DOCS_SCREENSHOT when set (to look at it), else to a temp folder.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { startServer, type RunningApp } from '../src/app.js';
import { silentLogger } from '../src/lib/log.js';
import { checkAnswer, contractOf } from './api-contract.js';
import { makeProject, tempFolder } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const HOST_NAME = 'riskserver.test';
// Nothing that phones home: no QUIC, no component or sync updates, no background traffic, a fresh profile.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // A host name that is not loopback-named, as a team reaches a server on its network (http://server:8000/docs):
  // a policy that upgrades such requests to https leaves the page blank.
  `--host-resolver-rules=MAP ${HOST_NAME} 127.0.0.1`,
];
const skip = fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (.ci/run installs Debian's chromium with apt-get)`;

let server: RunningApp;
let browser: BrowserContext;

before(async () => {
  if (skip) return;
  server = await startServer(makeProject().config, { port: 0, host: '127.0.0.1' }, silentLogger);
  // playwright wants the profile folder as an argument rather than --user-data-dir; it is fresh all the same.
  browser = await chromium.launchPersistentContext(tempFolder('risk-chromium-'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 1000 },
  });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

for (const host of ['127.0.0.1', HOST_NAME]) {
  test(
    `GET /docs by ${host} renders every operation of the document in headless Chromium, loading nothing from elsewhere`,
    { skip, timeout: 120_000 },
    async (t) => {
      const base = server.url.replace('127.0.0.1', host);
      const page = await browser.newPage();
      const requested: string[] = [];
      const failed: string[] = [];
      const consoleErrors: string[] = [];
      page.on('request', (req) => requested.push(req.url()));
      page.on('requestfailed', (req) => failed.push(`${req.url()}: ${req.failure()?.errorText ?? 'failed'}`));
      page.on('console', (message) => {
        // Over plain HTTP by a host name Chromium says it ignores Cross-Origin-Opener-Policy (kept for HTTPS deployments).
        if (message.type() === 'error' && !message.text().startsWith('The Cross-Origin-Opener-Policy header has been ignored'))
          consoleErrors.push(message.text());
      });
      page.on('pageerror', (error) => consoleErrors.push(error.message));

      const response = await page.goto(`${base}/docs`);
      assert.equal(response?.status(), 200);
      const contract = await contractOf(server.url);
      checkAnswer(contract, { method: 'GET', url: '/docs', status: 200, contentType: response?.headers()['content-type'], body: '' });
      await page.waitForSelector('.opblock', { timeout: 60_000 });
      // The page shows every operation but those that only say how the server speaks HTTP (405s, OPTIONS).
      const documented = Object.entries(contract.document.paths as Record<string, Record<string, { operationId?: string }>>).flatMap(
        ([route, item]) =>
          Object.entries(item)
            .filter(([key, operation]) => key !== 'parameters' && key !== 'options' && !operation.operationId?.endsWith('NotAllowed'))
            .map(([method]) => `${method.toUpperCase()} ${route}`),
      );
      await page.waitForFunction(
        (count: number) =>
          (globalThis as unknown as { document: { querySelectorAll(selector: string): { length: number } } }).document.querySelectorAll(
            '.opblock',
          ).length >= count,
        documented.length,
        { timeout: 60_000 },
      );
      const shown = await page.$$eval('.opblock', (blocks) =>
        blocks.map((block) => {
          const method = block.querySelector('.opblock-summary-method')?.textContent ?? '';
          const route = block.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? '';
          return `${method.trim().toUpperCase()} ${route}`;
        }),
      );
      assert.deepEqual([...shown].sort(), [...documented].sort());
      assert.match((await page.textContent('.info .title')) ?? '', /Dynamic Risk Assessment API/);

      // Opening an operation shows its documented answers.
      await page.click('#operations-Predictions-postPrediction .opblock-summary');
      await page.waitForSelector('#operations-Predictions-postPrediction .responses-table');
      const statuses = await page.$$eval('#operations-Predictions-postPrediction .responses-table .response-col_status', (cells) =>
        cells.map((cell) => cell.textContent?.trim().slice(0, 3)),
      );
      for (const status of ['200', '400', '403', '413', '415', '503'])
        assert.ok(statuses.includes(status), `POST /prediction shows ${status}`);

      const screenshot = process.env.DOCS_SCREENSHOT ?? path.join(tempFolder('risk-docs-'), 'docs.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      assert.ok(fs.statSync(screenshot).size > 10_000, 'the screenshot holds a rendered page');
      t.diagnostic(`screenshot: ${screenshot}`);

      const origin = new URL(base).origin;
      assert.deepEqual(
        requested.filter((url) => !url.startsWith(origin + '/') && !url.startsWith('data:')),
        [],
        'every request goes to the API itself',
      );
      assert.deepEqual(failed, [], 'no request failed');
      assert.deepEqual(consoleErrors, [], 'no console errors');
      assert.ok(requested.includes(`${origin}/openapi.json`), 'the page loaded the document');
      await page.close();
    },
  );
}
