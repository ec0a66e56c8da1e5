/**
 * bench-dashboard: the dashboard on a large project, measured in Debian's
 * headless Chromium, and what an open dashboard costs the prediction path.
 *
 * The project: 30 features with long names, 200-character client ids, 5,000
 * rows, a model bootstrapped by fullprocess, then a run history of 10,000
 * ticks (one every 10 minutes for ten weeks; a drift check every 12th tick
 * with all 30 features and a 50-level categorical one, some failures and rejections).
 *
 * Measured: first contentful paint, the moment the status strip shows data
 * (the page's `dashboard-status` mark), all sections loaded, and the bytes
 * transferred (a fresh browser context each time: nothing cached); then
 * POST /prediction (50 records, 16 connections, autocannon) without the page,
 * with the page open, and with the page open while the run history grows every
 * 5 s (every poll then fetches every section again: the worst case).
 *
 *   npm run bench:dashboard [-- --seconds 10]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { chromium, type Browser } from 'playwright-core';
import { runFullprocess } from '../src/fullprocess.js';
import { validateConfig } from '../src/lib/config.js';
import { FILE_NAMES } from '../src/lib/layout.js';
import type { FeatureDrift, Outcome, RunRecord } from '../src/lib/store/run-history.js';
import { Random } from '../src/lib/data/generator.js';
import { DIST, freePort } from './bench-lib.js';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 10;
const FEATURES = Array.from({ length: 30 }, (_, i) => `account_activity_measure_number_${String(i + 1).padStart(2, '0')}`);
const LEVELS = Array.from({ length: 50 }, (_, i) => `segment-${String(i + 1).padStart(2, '0')}`);
const TICKS = 10_000;

/** Writes a CSV of `rows` clients with the 30 features and a 200-character id. */
function writeData(file: string, rows: number, random: Random): void {
  const lines = [['client_id', ...FEATURES, 'exited'].join(',')];
  for (let r = 0; r < rows; r++) {
    const values = FEATURES.map(() => Math.round(100 * Math.exp(0.5 * random.normal())));
    const logit = 0.5 - (values[0] - 100) / 60 + (values[1] - 100) / 120;
    const exited = random.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    const id = `client-${String(random.int(1e9)).padStart(9, '0')}-`.padEnd(200, 'x');
    lines.push([id, ...values, exited].join(','));
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

function numericDrift(random: Random, drifted: boolean): FeatureDrift {
  const expected = Array.from({ length: 10 }, () => 0.1);
  const actual = expected.map(() => Math.max(0, 0.1 + (drifted ? 0.08 : 0.01) * random.normal()));
  const sum = actual.reduce((a, b) => a + b, 0);
  return {
    psi: drifted ? 0.2 + random.next() : 0.2 * random.next(),
    psi_bins: { edges: Array.from({ length: 9 }, (_, k) => 60 + 10 * k), expected, actual: actual.map((a) => a / sum) },
    ks_statistic: random.next() / 5,
    ks_pvalue: drifted ? 1e-6 : 0.5,
    drifted,
  };
}

function categoricalDrift(random: Random): FeatureDrift {
  const expected = [...LEVELS.map(() => 1 / 51), 1 / 51];
  const actual = expected.map(() => random.next());
  const sum = actual.reduce((a, b) => a + b, 0);
  return {
    // High enough to be among the charts drawn, so the 50-level chart shows in the screenshots.
    psi: 0.18 + 0.01 * random.next(),
    // As the drift of a categorical feature is recorded: the training levels, then null for unseen ones.
    psi_bins: { levels: [...LEVELS, null], expected, actual: actual.map((a) => a / sum) },
    chi2_statistic: 10 * random.next(),
    chi2_pvalue: random.next(),
    drifted: false,
  } as unknown as FeatureDrift;
}

/** The synthetic history: ticks every 10 minutes up to now. */
function history(bootstrap: RunRecord, random: Random): string {
  const lines: string[] = [];
  const end = Date.now();
  for (let i = 0; i < TICKS; i++) {
    const started = new Date(end - (TICKS - i) * 600_000).toISOString();
    let outcome: Outcome = 'no-new-data';
    if (i === 0) outcome = 'bootstrapped';
    else if (i % 12 === 0) outcome = i % 240 === 0 ? 'rejected' : 'no-drift';
    else if (i % 500 === 7) outcome = 'failed';
    const checked = outcome === 'no-drift' || outcome === 'rejected';
    const drift: Record<string, FeatureDrift> | null = checked
      ? Object.fromEntries<FeatureDrift>([
          ...FEATURES.map((feature, k): [string, FeatureDrift] => [feature, numericDrift(random, outcome === 'rejected' && k < 3)]),
          ['customer_segment', categoricalDrift(random)],
        ])
      : null;
    const newF1 = 0.5 + 0.2 * random.next();
    const record: RunRecord = {
      ...bootstrap,
      run_id: `synthetic-${i}`,
      started_at: started,
      finished_at: started,
      duration_ms: checked ? 800 : 40,
      outcome,
      new_files: checked || outcome === 'failed' ? [{ name: `batch-${i}.csv`, sha256: '0'.repeat(64) }] : [],
      scores: {
        deployed_f1: bootstrap.scores.candidate_f1,
        new_data_f1: checked ? newF1 : null,
        candidate_f1: outcome === 'rejected' ? 0.4 : null,
      },
      model_drift: checked
        ? {
            rule: 'raw',
            new_f1: newF1,
            deployed_f1: 0.6,
            history: [0.6],
            threshold: 0.6,
            drifted: outcome === 'rejected',
            explanation: 'synthetic',
          }
        : null,
      data_drift: drift,
      decision: outcome === 'failed' ? `the tick failed: batch-${i}.csv:2, column "x": not a number` : `synthetic ${outcome}`,
      error: outcome === 'failed' ? `batch-${i}.csv:2, column "x": not a number` : null,
      version_before: i === 0 ? null : 1,
      version_after: 1,
    };
    lines.push(JSON.stringify(i === 0 ? { ...bootstrap, started_at: started, finished_at: started } : record));
  }
  return lines.join('\n') + '\n';
}

async function prepare(): Promise<{ root: string; configFile: string; store: string }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'risk-bench-dashboard-'));
  for (const folder of ['input', 'testdata']) fs.mkdirSync(path.join(root, folder));
  const random = new Random(21);
  writeData(path.join(root, 'input', 'clients.csv'), 5000, random);
  writeData(path.join(root, 'testdata', 'testdata.csv'), 1000, random);
  const raw = {
    input_folder_path: 'input',
    output_folder_path: 'ingesteddata',
    test_data_path: 'testdata',
    output_model_path: 'models',
    prod_deployment_path: 'production_deployment',
    schema: { id_column: 'client_id', features: FEATURES, target: 'exited' },
    automation: { settle_seconds: 0 },
    diagnostics: { outdated_timeout_ms: 100 },
  };
  const configFile = path.join(root, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(raw, null, 2));
  const config = validateConfig(raw, configFile);
  const boot = await runFullprocess(config);
  if (boot.outcome !== 'bootstrapped') throw new Error(`bootstrap: ${boot.outcome} ${boot.error}`);
  const store = config.prod_deployment_path;
  const file = path.join(store, FILE_NAMES.runHistory);
  const bootstrap = JSON.parse(fs.readFileSync(file, 'utf8').trim()) as RunRecord;
  fs.writeFileSync(file, history(bootstrap, random));
  return { root, configFile, store };
}

/** True in the page once every section has loaded (the script marks the body with the revision shown). */
const LOADED = (): boolean =>
  (globalThis as unknown as { document: { body: { hasAttribute(name: string): boolean } } }).document.body.hasAttribute('data-revision');

interface PageLoad {
  first_contentful_paint_ms: number;
  status_shown_ms: number;
  all_sections_ms: number;
  transferred_bytes: number;
  requests: number;
}

async function loadPage(browser: Browser, url: string): Promise<PageLoad> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  await page.goto(url + '/dashboard');
  await page.waitForFunction(LOADED, null, { timeout: 60_000 });
  const load = await page.evaluate((): PageLoad => {
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    const status = performance.getEntriesByName('dashboard-status')[0];
    const sized = (entries: unknown[]): { transferSize: number }[] => entries as { transferSize: number }[];
    const resources = sized(performance.getEntriesByType('resource'));
    // 'navigation' is an entry type of browsers, not of node's typings.
    const navigation = sized(performance.getEntriesByType('navigation' as 'resource'))[0];
    return {
      first_contentful_paint_ms: Math.round(paint.startTime),
      status_shown_ms: Math.round(status.startTime),
      all_sections_ms: Math.round(performance.now()),
      transferred_bytes: navigation.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
      requests: resources.length + 1,
    };
  });
  await context.close();
  return load;
}

async function prediction(url: string): Promise<{ requests_per_second: number; p50_ms: number; p99_ms: number; errors: number }> {
  const records = Array.from({ length: 50 }, (_, i) => Object.fromEntries(FEATURES.map((f, k) => [f, 50 + ((i * 7 + k) % 100)])));
  const request = { url: url + '/prediction', connections: 16, method: 'POST' as const, headers: { 'content-type': 'application/json' } };
  const body = JSON.stringify({ records });
  await autocannon({ ...request, body, duration: 1 });
  const result = await autocannon({ ...request, body, duration: seconds });
  return {
    requests_per_second: Math.round(result.requests.average),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

const { root, configFile, store } = await prepare();
const historyBytes = fs.statSync(path.join(store, FILE_NAMES.runHistory)).size;
const port = await freePort();
const server = spawn(process.execPath, [path.join(DIST, 'src', 'app.js'), '--config', configFile, '--port', String(port)], {
  stdio: ['ignore', 'ignore', 'ignore'],
});
const url = `http://127.0.0.1:${port}`;
for (let i = 0; i < 200; i++) {
  try {
    if ((await fetch(url + '/health')).ok) break;
  } catch {
    // not listening yet
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  const loads: PageLoad[] = [];
  for (let i = 0; i < 3; i++) loads.push(await loadPage(browser, url));
  // Two rounds of the three cases in turn: the machine's noise shows in the spread between rounds.
  const rounds: Record<string, Awaited<ReturnType<typeof prediction>>>[] = [];
  const file = path.join(store, FILE_NAMES.runHistory);
  const last = fs.readFileSync(file, 'utf8').trim().split('\n').at(-1)!;
  for (let round = 0; round < 2; round++) {
    const without = await prediction(url);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url + '/dashboard');
    await page.waitForFunction(LOADED);
    const open = await prediction(url);
    // Worst case: the history grows every 5 s, so every poll fetches every section again.
    const growing = setInterval(
      () => fs.appendFileSync(file, last.replace(/"run_id":"[^"]+"/, `"run_id":"grow-${Date.now()}"`) + '\n'),
      5000,
    );
    const refreshing = await prediction(url);
    clearInterval(growing);
    await context.close();
    rounds.push({ without_dashboard: without, dashboard_open: open, dashboard_refreshing_every_5s: refreshing });
  }
  const result = {
    machine: `${os.cpus().length} CPUs, node ${process.version}`,
    history: { ticks: TICKS, bytes: historyBytes },
    page_loads: loads,
    prediction_rounds: rounds,
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await browser.close();
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  fs.rmSync(root, { recursive: true, force: true });
}
