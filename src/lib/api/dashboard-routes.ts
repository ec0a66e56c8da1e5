/**
 * The engineer's dashboard: GET /dashboard (and GET / redirecting to it), its
 * script and style (files of src/lib/dashboard/assets, served here: no CDN,
 * no inline script under `script-src 'self'`), and the data it asks for:
 *
 *   /dashboard/data/status     the status strip and the revision the page polls
 *   /dashboard/data/ticks      a page of the run history, newest first, by outcome
 *   /dashboard/data/timeline   the run history as a chart coloured by outcome
 *   /dashboard/data/versions   every version: F1s, gate figures, coefficient changes, rollback command
 *   /dashboard/data/drift      the newest drift check and PSI across checks
 *   /dashboard/data/clients    the call list, searchable by id
 *   /dashboard/data/summary    summary statistics and missing shares of the ingested data
 *   /dashboard/files/{file}    riskscores.csv and report.pdf
 *
 * The page and its two assets hold no data and are open (a browser cannot send
 * the bearer token when it navigates); every data route stays behind the token.
 * Every data answer is built on the report worker, and cached here under the
 * revision: a digest of the files the answers come from (a few stats), so a
 * page polling the status costs the event loop a few system calls.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Request, Response } from 'express';
import { cronPeriodSeconds } from '../automation/cron-period.js';
import type { DashboardRequest, DashboardSources } from '../dashboard/dashboard-data.js';
import { overdueWarning, OUTCOMES, type StatusView } from '../dashboard/views.js';
import { NotFoundError, UnavailableError, UserError } from '../errors.js';
import { FILE_NAMES } from '../layout.js';
import { PROJECT_ROOT } from '../project.js';
import type { Outcome } from '../store/run-history.js';
import { fileCache } from './cache.js';
import { redactDeep, type Redactor } from './redact.js';
import type { JobRunner } from './report-worker.js';
import { RouteTable, type ApiContext } from './routes.js';

/** The page's own files (GET /dashboard/{asset}). */
export const DASHBOARD_ASSETS = ['dashboard.js', 'dashboard.css'] as const;
/** The files offered for download (GET /dashboard/files/{file}). */
export const DASHBOARD_FILES = [FILE_NAMES.riskScores, FILE_NAMES.report] as const;
/** The paths of the page and its assets, answered without the bearer token. */
export const DASHBOARD_OPEN_PATHS: readonly string[] = ['/', '/dashboard', '/dashboard/:asset'];

const ASSET_FOLDER = path.join(PROJECT_ROOT, 'src', 'lib', 'dashboard', 'assets');
const ASSET_TYPES: Record<(typeof DASHBOARD_ASSETS)[number], string> = { 'dashboard.js': 'text/javascript', 'dashboard.css': 'text/css' };

/** The data routes whose answers carry SVG charts: redacted here, around the SVG (app.ts leaves them verbatim). */
export const DASHBOARD_CHART_PATHS: readonly string[] = ['/dashboard/data/timeline', '/dashboard/data/versions', '/dashboard/data/drift'];

/**
 * A copy of an answer with server paths redacted from every string but the
 * charts' SVG, whose namespace URLs the path redactor would take for paths.
 */
function redactAroundCharts(value: unknown, redact: Redactor): unknown {
  if (Array.isArray(value)) return value.map((item) => redactAroundCharts(item, redact));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        key === 'svg' && typeof item === 'string' ? item : redactAroundCharts(item, redact),
      ]),
    );
  }
  return redactDeep(value, redact);
}

/** Largest page of ticks or clients. */
const MAX_LIMIT = 200;

/** The page: a frame the script fills; asset links relative to where it is served (`/dashboard` or `/dashboard/`). */
function dashboardPage(prefix: string): string {
  const section = (id: string, title: string, body: string): string =>
    `<section id="${id}" aria-labelledby="${id}-title" hidden>\n<h2 id="${id}-title">${title}</h2>\n${body}\n</section>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Risk model dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${prefix}dashboard.css">
<script src="${prefix}dashboard.js" defer></script>
</head>
<body>
<header>
<h1>Risk model dashboard</h1>
<nav aria-label="Sections"><a href="#ticks">Ticks</a> <a href="#versions">Versions</a> <a href="#drift">Drift</a> <a href="#clients">Call list</a> <a href="#data">Data</a></nav>
<p id="updated" class="muted" aria-live="polite"></p>
</header>
<main>
<form id="token-form" hidden>
<h2>This API needs its token</h2>
<p>The API has <code>api.token</code> set. The token is kept for this browser tab only and sent as the bearer header.</p>
<label for="token-input">API token</label>
<input id="token-input" type="password" autocomplete="off" required>
<button type="submit">Show the dashboard</button>
<p id="token-error" class="error" role="alert"></p>
</form>
<p id="loading" class="muted">Loading…</p>
${section('status', 'Status', '<div id="status-body" role="status"></div>')}
${section(
  'ticks',
  'Ticks',
  `<figure id="timeline"></figure>
<div class="controls"><label for="outcome-filter">Outcome</label> <select id="outcome-filter"><option value="">all</option>${OUTCOMES.map((o) => `<option>${o}</option>`).join('')}</select>
<span id="ticks-range" class="muted"></span> <button type="button" id="ticks-newer">Newer</button> <button type="button" id="ticks-older">Older</button></div>
<div class="scroll"><table id="ticks-table"><caption class="sr-only">Ticks, newest first</caption><thead><tr><th scope="col">Started (UTC)</th><th scope="col">Outcome</th><th scope="col">Decision</th><th scope="col">New files</th><th scope="col">Duration</th><th scope="col">Version before → after</th></tr></thead><tbody></tbody></table></div>`,
)}
${section(
  'versions',
  'Versions',
  `<figure id="f1-chart"></figure>
<div class="scroll"><table id="versions-table"><caption class="sr-only">Deployed versions, newest first</caption><thead><tr><th scope="col">Version</th><th scope="col">Deployed (UTC)</th><th scope="col">Test F1</th><th scope="col">New-data F1 at drift checks</th><th scope="col">Gate</th><th scope="col">Coefficient changes</th><th scope="col">Rollback</th></tr></thead><tbody></tbody></table></div>`,
)}
${section('drift', 'Drift', '<p id="drift-summary"></p><figure id="psi-chart"></figure><div id="drift-charts" class="grid"></div><div class="scroll"><table id="drift-table"><caption class="sr-only">Features of the newest drift check</caption><thead><tr><th scope="col">Feature</th><th scope="col">PSI</th><th scope="col">Test</th><th scope="col">p-value</th><th scope="col">Drifted</th></tr></thead><tbody></tbody></table></div>')}
${section(
  'clients',
  'Call list',
  `<div class="controls"><label for="client-search">Search by client id</label> <input id="client-search" type="search" autocomplete="off">
<span id="clients-range" class="muted"></span> <button type="button" id="clients-more">More</button>
<button type="button" class="download" data-file="${FILE_NAMES.riskScores}">Download ${FILE_NAMES.riskScores}</button>
<button type="button" class="download" data-file="${FILE_NAMES.report}">Download ${FILE_NAMES.report}</button></div>
<p id="clients-note" class="muted"></p>
<div class="scroll"><table id="clients-table"><caption class="sr-only">Clients still with us, riskiest first</caption><thead><tr><th scope="col">Rank</th><th scope="col" id="id-column">Client</th><th scope="col">Risk</th><th scope="col">Reasons</th></tr></thead><tbody></tbody></table></div>`,
)}
${section('data', 'Data', '<p id="data-note" class="muted"></p><div class="scroll"><table id="data-table"><caption class="sr-only">Summary statistics of the ingested data</caption><thead><tr><th scope="col">Column</th><th scope="col">Mean</th><th scope="col">Median</th><th scope="col">Std</th><th scope="col">Min</th><th scope="col">Max</th><th scope="col">Count</th><th scope="col">Missing</th></tr></thead><tbody></tbody></table></div>')}
</main>
</body>
</html>
`;
}

/** A non-negative integer query parameter, `fallback` when absent, at most `max`. */
function integerParameter(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const text = typeof value === 'string' ? value : '';
  const number = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max)
    throw new UserError(`"${name}" must be an integer from ${min} to ${max}, got ${JSON.stringify(value)?.slice(0, 40)}`);
  return number;
}

/** The `outcome` query parameter: one of the outcomes, or absent (all). */
function outcomeParameter(value: unknown): Outcome | null {
  if (value === undefined || value === '') return null;
  if (typeof value === 'string' && (OUTCOMES as readonly string[]).includes(value)) return value as Outcome;
  throw new UserError(`"outcome" must be one of ${OUTCOMES.join(', ')}, got ${JSON.stringify(value)?.slice(0, 40)}`);
}

/** A short digest of what the files' identities are now (a changed file changes it). */
function revisionOf(files: string[], extra: string): string {
  const hash = createHash('sha256').update(extra);
  for (const file of files) {
    const stat = fs.statSync(file, { throwIfNoEntry: false, bigint: true });
    hash.update(`|${file}:${stat ? `${stat.ino}:${stat.size}:${stat.mtimeNs}` : '-'}`);
  }
  return hash.digest('hex').slice(0, 16);
}

/** One cached answer a view, recomputed on the worker when the revision changes. */
function revisionCache<T>(compute: () => Promise<T>): (revision: string) => Promise<T> {
  let cached: { revision: string; value: Promise<T> } | undefined;
  return (revision) => {
    if (cached?.revision !== revision) {
      const value = compute();
      const entry = { revision, value };
      cached = entry;
      // A failed computation is not kept: the next request tries again.
      value.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.value;
  };
}

/** The dashboard routes; every data answer is built on the report worker (`jobs`). */
export function dashboardRoutes(context: ApiContext, jobs: JobRunner): RouteTable {
  const { config, paths, watcher, redact } = context;
  const store = config.prod_deployment_path;
  const expression = config.automation.schedule;
  const sources: DashboardSources = {
    store,
    schedule: { expression, period_seconds: cronPeriodSeconds(expression) },
    psiThreshold: config.drift.psi_threshold,
  };
  const historyFiles = [path.join(store, FILE_NAMES.runHistory), path.join(store, 'deployments.jsonl')];
  const dataFiles = [paths.finalData, paths.riskScores, paths.report];
  const revision = (): string => revisionOf([...historyFiles, ...dataFiles], watcher.current()?.fingerprint ?? 'none');
  const historyRevision = (): string => revisionOf(historyFiles, watcher.current()?.fingerprint ?? 'none');
  const ask = <T>(request: DashboardRequest): Promise<T> => jobs.run('dashboard', request) as Promise<T>;
  const status = revisionCache(() => ask<StatusView>({ view: 'status', sources }));
  const timeline = revisionCache(() => ask({ view: 'timeline', sources }));
  const versions = revisionCache(() => ask({ view: 'versions', sources }));
  const drift = revisionCache(() => ask({ view: 'drift', sources }));
  const dataName = path.basename(paths.finalData);
  const summaryCache = fileCache(
    async (file) => Promise.all([jobs.run('summary', { file, schema: config.schema }), jobs.run('missing', { file })]),
    'run ingestion first',
  );
  const assets = new Map<string, string>();
  const asset = (name: (typeof DASHBOARD_ASSETS)[number]): string => {
    let text = assets.get(name);
    if (text === undefined) assets.set(name, (text = fs.readFileSync(path.join(ASSET_FOLDER, name), 'utf8')));
    return text;
  };

  return new RouteTable()
    .get('/', (_req: Request, res: Response) => {
      res.redirect(302, 'dashboard');
    })
    .get('/dashboard', (req: Request, res: Response) => {
      // The page's first data request is the status: start the worker and read the history meanwhile.
      status(historyRevision()).catch(() => undefined);
      res
        .set('Cache-Control', 'no-cache')
        .type('html')
        .send(dashboardPage(req.path.endsWith('/') ? './' : './dashboard/'));
    })
    .get('/dashboard/:asset', (req: Request, res: Response) => {
      const name = String(req.params.asset).toLowerCase();
      if (!(DASHBOARD_ASSETS as readonly string[]).includes(name)) throw new NotFoundError(`no such dashboard asset: ${name.slice(0, 80)}`);
      const known = name as (typeof DASHBOARD_ASSETS)[number];
      res.set('Cache-Control', 'no-cache').type(ASSET_TYPES[known]).send(asset(known));
    })
    .get('/dashboard/data/status', async (_req: Request, res: Response) => {
      const current = revision();
      const view = await status(historyRevision());
      // The overdue warning depends on the clock, not on the files: judged at every answer.
      const overdue = overdueWarning(view.newest_tick, view.schedule.period_seconds, Date.now());
      const warnings = view.warnings.filter((warning) => warning.kind !== 'overdue').concat(overdue ? [overdue] : []);
      // What the page may ask for without meeting a 503 (which a browser reports as a console error).
      const ingested = fs.existsSync(paths.finalData);
      const available = { clients: ingested && watcher.current() !== null, summary: ingested };
      res
        .set('Cache-Control', 'no-store')
        .json({ revision: current, generated_at: new Date().toISOString(), ...view, warnings, available });
    })
    .get('/dashboard/data/ticks', async (req: Request, res: Response) => {
      const outcome = outcomeParameter(req.query.outcome);
      const offset = integerParameter(req.query.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
      const limit = integerParameter(req.query.limit, 'limit', 25, 1, MAX_LIMIT);
      res.set('Cache-Control', 'no-store').json(await ask({ view: 'ticks', sources, outcome, offset, limit }));
    })
    .get('/dashboard/data/timeline', async (_req: Request, res: Response) => {
      res.set('Cache-Control', 'no-store').json(redactAroundCharts(await timeline(historyRevision()), redact));
    })
    .get('/dashboard/data/versions', async (_req: Request, res: Response) => {
      res.set('Cache-Control', 'no-store').json(redactAroundCharts(await versions(historyRevision()), redact));
    })
    .get('/dashboard/data/drift', async (_req: Request, res: Response) => {
      res.set('Cache-Control', 'no-store').json(redactAroundCharts(await drift(historyRevision()), redact));
    })
    .get('/dashboard/data/clients', async (req: Request, res: Response) => {
      const search = typeof req.query.search === 'string' ? req.query.search : '';
      if (req.query.search !== undefined && typeof req.query.search !== 'string') throw new UserError('"search" must be one text');
      if (search.length > 1000) throw new UserError('"search" is longer than 1000 characters');
      const offset = integerParameter(req.query.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
      const limit = integerParameter(req.query.limit, 'limit', 25, 1, MAX_LIMIT);
      const served = watcher.require();
      if (!fs.existsSync(paths.finalData)) throw new UnavailableError(`${dataName} not found (run ingestion first)`);
      const page = await jobs.run('riskPage', {
        file: paths.finalData,
        label: dataName,
        model: served.model,
        modelKey: served.fingerprint,
        schema: config.schema,
        search,
        offset,
        limit,
      });
      res.set('Cache-Control', 'no-store').json({ model_version: served.version, data_file: dataName, search, offset, limit, ...page });
    })
    .get('/dashboard/data/summary', async (_req: Request, res: Response) => {
      const [summary, missing] = await summaryCache(paths.finalData, undefined);
      const roles = (name: string): 'feature' | 'target' | 'id' | 'other' =>
        config.schema.features.includes(name) || config.schema.categorical_features.includes(name)
          ? 'feature'
          : name === config.schema.target
            ? 'target'
            : name === config.schema.id_column
              ? 'id'
              : 'other';
      const names = [...new Set([...Object.keys(summary.columns), ...Object.keys(missing.columns)])];
      const columns = names.map((name) => ({
        name,
        role: roles(name),
        // A column without numeric statistics (a categorical one) keeps the keys, as nulls.
        ...{ mean: null, median: null, std: null, count: 0, min: null, max: null },
        ...summary.columns[name],
        missing: missing.columns[name]?.missing ?? 0,
        missing_percent: missing.columns[name]?.percent ?? 0,
      }));
      res.set('Cache-Control', 'no-store').json({ data_file: dataName, rows: summary.rows, columns });
    })
    .get('/dashboard/files/:file', (req: Request, res: Response) => {
      const name = String(req.params.file).toLowerCase();
      if (!(DASHBOARD_FILES as readonly string[]).includes(name)) throw new NotFoundError(`no such download: ${name.slice(0, 80)}`);
      const file = name === FILE_NAMES.report ? paths.report : paths.riskScores;
      if (!fs.existsSync(file)) throw new NotFoundError(`${name} is not there yet (a tick that ingests new data writes it)`);
      res.set('Cache-Control', 'no-store').attachment(name).sendFile(file);
    });
}
