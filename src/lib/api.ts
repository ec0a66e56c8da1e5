/**
 * The HTTP API as an Express app built by `createApp`; it never listens by
 * itself (src/app.ts does). Routes are wired in one place below, followed by a
 * JSON 404/405 and one error handler that turns errors into `{ "error": ... }`.
 */
import { execFile } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from './config.js';
import { readDataset } from './dataset.js';
import type { DependencyReport } from './dependencies.js';
import { UnavailableError, UserError, UnsupportedMediaTypeError, messageOf } from './errors.js';
import { silentLogger, type Logger } from './log.js';
import { computeMetrics, type Metrics } from './metrics.js';
import { classify, predictProbabilities } from './model.js';
import type { ModelWatcher, ServedModel } from './model-watcher.js';
import { columnsFromCsv, columnsFromMlflow, columnsFromRecords, unlabelledSchema, type FeatureColumns } from './prediction-input.js';
import { PROJECT_ROOT } from './project.js';
import { readRuns } from './run-history.js';
import { resolveInsideFolders } from './safe-path.js';
import { cachedDependencies, countMissing, summarizeData, type TimingReport } from '../diagnostics.js';
import { FINAL_DATA } from '../ingestion.js';
import { TEST_DATA } from '../scoring.js';

/** Measures ingestion and training wall time somewhere that does not block the server. */
export type TimingProvider = () => Promise<TimingReport>;

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
}

/**
 * Caches a value computed from a file (and an argument, keyed by `argKey`)
 * until the file's size or mtime or the key changes. A missing or invalid file
 * is the server's state, not the caller's mistake: 503 (with `missingHint`).
 */
function fileCache<T, A = undefined>(
  compute: (file: string, arg: A) => T,
  missingHint: string,
): (file: string, arg: A, argKey?: string) => T {
  let key = '';
  let value: T | undefined;
  return (file, arg, argKey = '') => {
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (!stat) throw new UnavailableError(`${path.basename(file)} not found (${missingHint})`);
    const nextKey = `${stat.size}:${stat.mtimeMs}:${stat.ino}:${argKey}`;
    if (nextKey !== key || value === undefined) {
      try {
        value = compute(file, arg);
      } catch (error) {
        // Bad data on the server is not the caller's mistake: 503 with the reason, not a 400.
        if (error instanceof UserError && !(error instanceof UnavailableError)) throw new UnavailableError(error.message, { cause: error });
        throw error;
      }
      key = nextKey;
    }
    return value;
  };
}

/**
 * Rewrites the server's absolute paths in a message meant for an HTTP answer:
 * the config's folders become their names relative to the config file, other
 * absolute paths their last component. Logs keep the full paths.
 */
export function pathRedactor(config: Config): (text: string) => string {
  const base = config.baseFolder;
  const pairs = new Map<string, string>();
  const add = (absolute: string, shown: string): void => {
    pairs.set(absolute, shown);
    try {
      pairs.set(fs.realpathSync(absolute), shown);
    } catch {
      // A folder that does not exist yet can only appear as written.
    }
  };
  for (const folder of [
    config.input_folder_path,
    config.output_folder_path,
    config.test_data_path,
    config.output_model_path,
    config.prod_deployment_path,
  ]) {
    const relative = path.relative(base, folder);
    const outside = relative === '..' || relative.startsWith('..' + path.sep) || path.isAbsolute(relative);
    add(folder, relative === '' ? '.' : outside ? path.basename(folder) : relative);
  }
  add(config.configFile, path.basename(config.configFile));
  add(base, '.');
  add(PROJECT_ROOT, '.');
  const known = [...pairs].filter(([absolute]) => absolute.length > 1).sort((a, b) => b[0].length - a[0].length);
  // Whatever absolute path is left (a scratch folder, a home folder): keep only its last component.
  const leftover = /(?<![\w.~-])\/(?:[^\s"'`()<>,;:\/]+\/)+([^\s"'`()<>,;:\/]*)/g;
  return (text) => {
    let out = text;
    for (const [absolute, shown] of known) out = out.split(absolute).join(shown);
    return out.replace(leftover, (_match, last: string) => last || '.');
  };
}

/**
 * Shares one run of `compute` between concurrent callers and reuses its result
 * for `maxAgeMs(result)`. With `serveStale`, an expired result is still
 * answered at once while a refresh runs; only the very first call waits.
 */
function sharedResult<T>(compute: () => Promise<T>, maxAgeMs: (value: T) => number, serveStale = false): () => Promise<T> {
  let cached: { value: T; at: number } | undefined;
  let running: Promise<T> | undefined;
  return () => {
    if (cached && Date.now() - cached.at < maxAgeMs(cached.value)) return Promise.resolve(cached.value);
    running ??= compute()
      .then((value) => {
        cached = { value, at: Date.now() };
        return value;
      })
      .finally(() => {
        running = undefined;
      });
    return serveStale && cached ? Promise.resolve(cached.value) : running;
  };
}

/** Runs `diagnostics --timings-only` in a child process (never blocks the event loop); refreshed every five minutes. */
export function childProcessTimings(config: Config, log: Logger): TimingProvider {
  const script = path.join(PROJECT_ROOT, 'dist', 'src', 'diagnostics.js');
  const measure = (): Promise<TimingReport> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [script, '--config', config.configFile, '--timings-only'],
        { timeout: 120_000, maxBuffer: 8 << 20, env: { ...process.env, LOG_LEVEL: 'error' } },
        (error, stdout) => {
          let report: TimingReport;
          try {
            const parsed = JSON.parse(stdout) as { timings?: TimingReport; error?: string };
            report = parsed.timings ?? { status: 'unavailable', reason: parsed.error ?? 'no timings in the answer' };
          } catch {
            report = { status: 'unavailable', reason: `timing run failed: ${error ? messageOf(error).split('\n')[0] : 'no output'}` };
          }
          if (report.status !== 'ok') log.warn(`timings unavailable: ${report.reason}`);
          resolve(report);
        },
      );
    });
  return sharedResult(measure, () => 300_000, true);
}

const KNOWN_ROUTES: Record<string, string[]> = {
  '/prediction': ['POST'],
  '/invocations': ['POST'],
  '/scoring': ['GET'],
  '/summarystats': ['GET'],
  '/diagnostics': ['GET'],
  '/health': ['GET'],
  '/metrics': ['GET'],
  '/runs': ['GET'],
  '/drift': ['GET'],
};

/** The route a path reaches: Express matches routes case-insensitively and with or without a trailing slash. */
function routeKey(requestPath: string): string {
  return requestPath.toLowerCase().replace(/(.)\/+$/, '$1');
}

/** Builds the Express app. */
export function createApp(deps: AppDeps): express.Express {
  const { config, watcher } = deps;
  const log = deps.log ?? silentLogger;
  const timings = deps.timings ?? childProcessTimings(config, log);
  // `npm outdated` takes seconds and up to its time-out when the registry is unreachable:
  // concurrent requests share one check, and an unavailable answer is reused for a minute.
  const dependencies = sharedResult(deps.dependencies ?? (() => cachedDependencies(config)), (report) =>
    report.status === 'ok' ? config.diagnostics.outdated_cache_seconds * 1000 : 60_000,
  );
  const redact = pathRedactor(config);
  const registry = deps.registry ?? new Registry();
  const requests = new Counter({
    name: 'risk_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'risk_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const predictedRows = new Counter({
    name: 'risk_predictions_total',
    help: 'Rows predicted',
    labelNames: ['endpoint'],
    registers: [registry],
  });
  new Gauge({
    name: 'risk_model_version',
    help: 'Deployed model version being served (0 = none)',
    registers: [registry],
    collect() {
      this.set(watcher.current()?.version ?? 0);
    },
  });

  const finalData = path.join(config.output_folder_path, FINAL_DATA);
  const testData = path.join(config.test_data_path, TEST_DATA);
  const summaryCache = fileCache((file) => ({ ...summarizeData(file, config), data_file: FINAL_DATA }), 'run ingestion first');
  const missingCache = fileCache((file) => ({ ...countMissing(file), data_file: FINAL_DATA }), 'run ingestion first');
  // Keyed by the version it was computed for, so a switch in between cannot pair one version's number with another's score.
  const scoreCache = fileCache(
    (file, served: ServedModel) => scoreServedModel(served, file),
    `put the test data in ${path.basename(config.test_data_path)}`,
  );
  function scoreServedModel(served: ServedModel, file: string): Metrics & { model_version: number; data_file: string } {
    const data = readDataset(
      file,
      { ...config.schema, features: served.model.features, target: served.model.target },
      { label: TEST_DATA },
    );
    if (data.rows === 0) throw new UnavailableError(`${TEST_DATA} has no rows to score on`);
    const probabilities = predictProbabilities(served.model, data.columns);
    return { ...computeMetrics(data.target!, classify(probabilities), probabilities), model_version: served.version, data_file: TEST_DATA };
  }

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(helmet());
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? (KNOWN_ROUTES[routeKey(req.path)] ? routeKey(req.path) : 'unmatched');
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      latency.observe({ method: req.method, route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  });
  app.use(requireToken(config.api.token));

  const jsonBody = express.json({ limit: config.api.body_limit, strict: true });
  const csvBody = express.text({ type: ['text/csv', 'text/plain', 'application/csv'], limit: config.api.body_limit });

  const predict = (served: ServedModel, input: FeatureColumns) => {
    const probabilities = predictProbabilities(served.model, input.columns);
    return { probabilities, predictions: classify(probabilities) };
  };

  app.post('/prediction', requireBody, jsonBody, csvBody, (req, res) => {
    const served = watcher.require();
    const features = served.model.features;
    // A target column in the input is ignored, not validated: callers predict for clients whose outcome is unknown.
    const schema = unlabelledSchema({ ...config.schema, features, target: served.model.target });
    let input: FeatureColumns;
    if (typeof req.body === 'string') {
      input = columnsFromCsv(req.body, schema);
    } else if (isObject(req.body) && 'records' in req.body) {
      input = columnsFromRecords(req.body.records, features);
    } else if (isObject(req.body) && 'file_location' in req.body) {
      const file = resolveInsideFolders(req.body.file_location, config.baseFolder, [
        config.input_folder_path,
        config.output_folder_path,
        config.test_data_path,
      ]);
      const data = readDataset(file, schema, { label: String(req.body.file_location), requireTarget: false });
      if (data.rows === 0) throw new UserError(`"file_location" ${JSON.stringify(req.body.file_location)} has no data rows`);
      input = { columns: data.columns, rows: data.rows };
    } else {
      throw new UserError('expected {"records": [...]}, {"file_location": "<path>"} or a text/csv body');
    }
    const { probabilities, predictions } = predict(served, input);
    predictedRows.inc({ endpoint: 'prediction' }, input.rows);
    res.json({ predictions: Array.from(predictions), probabilities: Array.from(probabilities), model_version: served.version });
  });

  app.post('/invocations', requireBody, jsonBody, csvBody, (req, res) => {
    const served = watcher.require();
    const features = served.model.features;
    const input =
      typeof req.body === 'string'
        ? columnsFromCsv(req.body, { ...config.schema, features, target: served.model.target })
        : columnsFromMlflow(req.body, features);
    const { predictions } = predict(served, input);
    predictedRows.inc({ endpoint: 'invocations' }, input.rows);
    res.json({ predictions: Array.from(predictions) });
  });

  app.get('/scoring', (_req, res) => {
    const served = watcher.require();
    res.json(scoreCache(testData, served, String(served.version)));
  });

  app.get('/summarystats', (_req, res) => {
    res.json(summaryCache(finalData, undefined));
  });

  app.get('/diagnostics', async (_req, res) => {
    const [timing, dependencyReport] = await Promise.all([timings(), dependencies()]);
    const missing = fs.existsSync(finalData) ? missingCache(finalData, undefined) : null;
    res.json({
      model_version: watcher.current()?.version ?? null,
      missing_data: missing,
      timings: timing.status === 'ok' ? timing : { ...timing, reason: redact(timing.reason) },
      dependencies:
        dependencyReport.reason === undefined ? dependencyReport : { ...dependencyReport, reason: redact(dependencyReport.reason) },
    });
  });

  app.get('/health', (_req, res) => {
    const served = watcher.current();
    if (served) {
      res.json({ status: 'ok', model_version: served.version, loaded_at: served.loadedAt, deployed_at: served.record.deployed_at });
    } else {
      res.status(503).json({ status: 'unavailable', error: redact(watcher.unavailableReason() ?? 'no model is deployed') });
    }
  });

  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  app.get('/runs', (req, res) => {
    const runs = readRuns(config.prod_deployment_path, log);
    const limit = req.query.limit === undefined ? undefined : Number(req.query.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UserError('"limit" must be a positive integer');
    const shown = (limit ? runs.slice(-limit) : runs).map((run) => ({ ...run, config_file: redact(run.config_file ?? '') }));
    res.json({ runs: shown });
  });

  app.get('/drift', (_req, res) => {
    const runs = readRuns(config.prod_deployment_path, log);
    const latest = [...runs].reverse().find((run) => run.model_drift || run.data_drift);
    if (!latest) {
      res.json({ drift: null, reason: 'no fullprocess run has checked for drift yet' });
      return;
    }
    res.json({
      run_id: latest.run_id,
      started_at: latest.started_at,
      outcome: latest.outcome,
      model_drift: latest.model_drift,
      data_drift: latest.data_drift,
    });
  });

  app.use((req, res) => {
    const route = routeKey(req.path);
    const allowed = KNOWN_ROUTES[route];
    if (allowed) {
      res
        .set('Allow', allowed.join(', '))
        .status(405)
        .json({ error: `${req.method} is not allowed on ${route} (use ${allowed.join(', ')})` });
      return;
    }
    res.status(404).json({ error: `no such endpoint: ${req.method} ${req.path}` });
  });
  app.use(errorHandler(log, config.api.body_limit, redact));
  return app;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rejects a POST without a body or with a content type no parser reads. */
function requireBody(req: Request, _res: Response, next: NextFunction): void {
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) {
    next(new UserError('the request body is empty: send {"records": [...]}, {"file_location": "..."} or CSV'));
    return;
  }
  if (!req.headers['content-type']) {
    next(new UnsupportedMediaTypeError('missing Content-Type: send application/json or text/csv'));
    return;
  }
  if (!req.is(['application/json', 'text/csv', 'text/plain', 'application/csv'])) {
    next(new UnsupportedMediaTypeError(`unsupported Content-Type "${req.headers['content-type']}": send application/json or text/csv`));
    return;
  }
  next();
}

/** Bearer-token check for every endpoint but /health (when a token is configured). */
function requireToken(token: string | null) {
  const expected = token ? Buffer.from(token) : null;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!expected || routeKey(req.path) === '/health') return next();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = match ? Buffer.from(match[1].trim()) : Buffer.alloc(0);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    res
      .set('WWW-Authenticate', 'Bearer')
      .status(401)
      .json({ error: match ? 'invalid bearer token' : 'missing bearer token (Authorization: Bearer <token>)' });
  };
}

/** The one error handler: caller mistakes get their 4xx and message, anything else a 500 without details. */
function errorHandler(log: Logger, limit: string | number, redact: (text: string) => string) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const bodyError = error as { type?: string; status?: number; expose?: boolean; message?: string };
    let status = 500;
    let message = 'internal error';
    if (error instanceof UserError) {
      status = error.status;
      message = error.message;
    } else if (bodyError?.type === 'entity.too.large') {
      status = 413;
      message = `request body is larger than the limit (${limit})`;
    } else if (bodyError?.type === 'entity.parse.failed') {
      status = 400;
      message = `invalid JSON body: ${bodyError.message}`;
    } else if (bodyError?.expose && typeof bodyError.status === 'number' && bodyError.status >= 400 && bodyError.status < 500) {
      status = bodyError.status;
      message = bodyError.message ?? 'bad request';
    }
    if (status === 500) log.error(`${req.method} ${req.path} failed: ${messageOf(error)}`, { stack: (error as Error)?.stack });
    else log.debug(`${req.method} ${req.path}: ${status} ${messageOf(error)}`);
    if (res.headersSent) return;
    res.status(status).json({ error: redact(message) });
  };
}
