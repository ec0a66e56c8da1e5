/**
 * The HTTP API as an Express app built by `createApp`; it never listens by
 * itself (src/app.ts does). The routers are wired here in one place, followed
 * by a JSON 404/405 and one error handler that turns errors into `{ "error": ... }`.
 *
 *   fast-prediction     the hot path: POST /prediction with {"records": [...]}, same guards, ahead of the stack
 *   prediction-routes   GET and POST /prediction, POST /invocations
 *   health-routes       GET /health, /health/live, /ping, /version
 *   report-routes       GET /scoring, /summarystats, /diagnostics, /runs, /drift
 *   risk-routes         GET /risk (the call list)
 *   metrics-routes      GET /metrics (and the per-request counters, and the access log of access-log.ts)
 *   docs-routes         GET /openapi.json (built by openapi.ts from these tables), /docs
 *   dashboard-routes    GET /dashboard (and / redirecting there), its assets and data
 */
import express from 'express';
import helmet from 'helmet';
import { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { DependencyReport } from '../diagnostics/dependencies.js';
import { artefactPaths } from '../layout.js';
import { silentLogger, type Logger } from '../log.js';
import type { ModelWatcher } from './model-watcher.js';
import { PACKAGE_VERSION } from '../project.js';
import { accessLog } from './access-log.js';
import { corsAndOptions } from './cors.js';
import { DASHBOARD_CHART_PATHS, DASHBOARD_OPEN_PATHS, dashboardRoutes } from './dashboard-routes.js';
import { docsRoutes } from './docs-routes.js';
import { healthRoutes } from './health-routes.js';
import { createApiMetrics, metricsRoutes } from './metrics-routes.js';
import { fastPrediction, type HotPath } from './fast-prediction.js';
import { errorHandler, mergeSlashes, noRoute, recordedHeaders, rejectRepeatedQuery, requireToken, setHeaders } from './middleware.js';
import { buildOpenApi } from './openapi.js';
import { predictionRoutes } from './prediction-routes.js';
import { pathRedactor, redactAnswers } from './redact.js';
import { reportRoutes } from './report-routes.js';
import { ReportWorker, type JobRunner } from './report-worker.js';
import { riskRoutes } from './risk-routes.js';
import type { ApiContext, RouteTable } from './routes.js';
import { childProcessTimings, type TimingProvider } from './timings.js';

/** What the app needs; everything with I/O is passed in so tests can replace it. */
export interface AppDeps {
  config: Config;
  watcher: ModelWatcher;
  log?: Logger;
  /** Defaults to running the diagnostics stage in a child process. */
  timings?: TimingProvider;
  /** Dependency status; defaults to `npm outdated` (slow, needs the registry), cached. */
  dependencies?: () => Promise<DependencyReport>;
  /** Metrics registry (one per app by default). */
  registry?: Registry;
  /** Where data files are read for the report and risk routes (default: a worker thread). */
  jobs?: JobRunner;
  /** Answers GET /metrics; defaults to this app's registry (a cluster worker asks the primary for every worker's). */
  scrapeMetrics?: () => Promise<string>;
  /** False sends every request down the general path (the hot-path test compares the two); default true. */
  hotPath?: boolean;
}

/**
 * Endpoints answered without the bearer token: the probes, which load
 * balancers, orchestrators and MLflow's client poll without credentials.
 * /version and the docs stay behind the token like the data. The dashboard's
 * page and assets are open (a browser cannot send a bearer token when it
 * navigates; they hold no data): its data requests carry the token.
 */
export const OPEN_ENDPOINTS: readonly string[] = ['/health', '/health/live', '/ping', ...DASHBOARD_OPEN_PATHS];

/** The Express app, with its hot path for a server to call ahead of Express (see fast-prediction.ts). */
export type ApiApp = express.Express & { hotPath: HotPath };

/** Builds the Express app. */
export function createApp(deps: AppDeps): ApiApp {
  const { config, watcher } = deps;
  const log = deps.log ?? silentLogger;
  const context: ApiContext = { config, paths: artefactPaths(config), watcher, log, redact: pathRedactor(config) };
  // One worker thread a process reads data files for the report and risk routes.
  const jobs = deps.jobs ?? new ReportWorker();
  const metrics = createApiMetrics(deps.registry ?? new Registry(), context);
  const tables: RouteTable[] = [
    predictionRoutes(context, metrics, jobs),
    healthRoutes(context),
    reportRoutes(context, { timings: deps.timings ?? childProcessTimings(config, log), dependencies: deps.dependencies, jobs }),
    riskRoutes(context, jobs),
    metricsRoutes(metrics, deps.scrapeMetrics),
    dashboardRoutes(context, jobs),
  ];
  const describe = () =>
    buildOpenApi({
      routes: allowed,
      // The served model's columns (the config's before a model is served).
      features: watcher.current()?.model.features ?? config.schema.features,
      categorical: watcher.current()?.model.categorical.map((entry) => entry.feature) ?? config.schema.categorical_features,
      bodyLimit: config.api.body_limit,
      secured: config.api.token !== null,
      // The asset route is open for its two files (the token check knows them by path).
      open: OPEN_ENDPOINTS,
      version: PACKAGE_VERSION,
    });
  tables.push(docsRoutes(describe, () => watcher.current()?.version));
  const allowed = new Map(tables.flatMap((table) => [...table.allowed]));

  // helmet's headers are static with this configuration: recorded once, set in one go on every answer.
  // Without upgrade-insecure-requests: over plain HTTP by a host name (http://server:8000/docs) it made the browser
  // fetch the docs page's script and style over https, which this server does not speak, and the page stayed blank.
  const securityHeaders = recordedHeaders(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  const observe = metrics.observe(allowed, [accessLog(log)]);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const fast = fastPrediction({
    watcher,
    predictedRows: metrics.predictedRows,
    unseenLevels: metrics.unseenLevels,
    observe,
    headers: securityHeaders,
    token: config.api.token,
    bodyLimit: config.api.body_limit,
  });
  const hotPath: HotPath = deps.hotPath === false ? (_req, _res, next) => next() : fast;
  app.use(hotPath);
  app.use(mergeSlashes);
  app.use(setHeaders(securityHeaders));
  app.use(redactAnswers(context.redact, ['/openapi.json', ...DASHBOARD_CHART_PATHS]));
  app.use(observe);
  app.use(rejectRepeatedQuery);
  app.use(corsAndOptions(allowed, config.api.cors_origins));
  app.use(requireToken(config.api.token, OPEN_ENDPOINTS));
  for (const table of tables) app.use(table.router);
  app.use(noRoute(allowed));
  app.use(errorHandler(log, config.api.body_limit, context.redact));
  return Object.assign(app, { hotPath });
}
