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
import { UserError, UnsupportedMediaTypeError, messageOf } from './errors.js';
import { silentLogger, type Logger } from './log.js';
import { computeMetrics, type Metrics } from './metrics.js';
import { classify, predictProbabilities } from './model.js';
import type { ModelWatcher, ServedModel } from './model-watcher.js';
import { columnsFromCsv, columnsFromMlflow, columnsFromRecords, type FeatureColumns } from './prediction-input.js';
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
  /** Metrics registry (one per app by default). */
  registry?: Registry;
}

/** Caches a value computed from a file until the file's size or mtime changes. */
function fileCache<T>(compute: (file: string) => T): (file: string, extraKey?: string) => T {
  let key = '';
  let value: T | undefined;
  return (file, extraKey = '') => {
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (!stat) throw new UserError(`${path.basename(file)} not found (run ingestion first)`);
    const nextKey = `${stat.size}:${stat.mtimeMs}:${stat.ino}:${extraKey}`;
    if (nextKey !== key || value === undefined) {
      value = compute(file);
      key = nextKey;
    }
    return value;
  };
}

/** Runs `diagnostics --timings-only` in a child process (never blocks the event loop); cached for five minutes. */
export function childProcessTimings(config: Config, log: Logger): TimingProvider {
  const script = path.join(PROJECT_ROOT, 'dist', 'src', 'diagnostics.js');
  let cached: { value: TimingReport; at: number } | undefined;
  let running: Promise<TimingReport> | undefined;
  const measure = (): Promise<TimingReport> =>
    new Promise((resolve) => {
      execFile(process.execPath, [script, '--config', config.configFile, '--timings-only'], { timeout: 120_000, maxBuffer: 8 << 20, env: { ...process.env, LOG_LEVEL: 'error' } }, (error, stdout) => {
        try {
          const parsed = JSON.parse(stdout) as { timings?: TimingReport; error?: string };
          resolve(parsed.timings ?? { status: 'unavailable', reason: parsed.error ?? 'no timings in the answer' });
        } catch {
          resolve({ status: 'unavailable', reason: `timing run failed: ${error ? messageOf(error).split('\n')[0] : 'no output'}` });
        }
      });
    });
  return async () => {
    const fresh = cached && Date.now() - cached.at < 300_000;
    if (!fresh && !running) {
      running = measure().then((value) => {
        cached = { value, at: Date.now() };
        running = undefined;
        if (value.status !== 'ok') log.warn(`timings unavailable: ${value.reason}`);
        return value;
      });
    }
    // Serve the last figures while a refresh runs; wait only the very first time.
    return cached ? cached.value : running!;
  };
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

/** Builds the Express app. */
export function createApp(deps: AppDeps): express.Express {
  const { config, watcher } = deps;
  const log = deps.log ?? silentLogger;
  const timings = deps.timings ?? childProcessTimings(config, log);
  const registry = deps.registry ?? new Registry();
  const requests = new Counter({ name: 'risk_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'risk_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const predictedRows = new Counter({ name: 'risk_predictions_total', help: 'Rows predicted', labelNames: ['endpoint'], registers: [registry] });
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
  const summaryCache = fileCache((file) => summarizeData(file, config));
  const missingCache = fileCache((file) => countMissing(file));
  const scoreCache = fileCache((file) => scoreServedModel(watcher.require(), file));
  function scoreServedModel(served: ServedModel, file: string): Metrics & { model_version: number; data_file: string } {
    const data = readDataset(file, { ...config.schema, features: served.model.features, target: served.model.target }, { label: TEST_DATA });
    if (data.rows === 0) throw new UserError(`${TEST_DATA} has no rows to score on`);
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
      const route = (req.route?.path as string | undefined) ?? (KNOWN_ROUTES[req.path] ? req.path : 'unmatched');
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
    const schema = { ...config.schema, features, target: served.model.target };
    let input: FeatureColumns;
    if (typeof req.body === 'string') {
      input = columnsFromCsv(req.body, schema);
    } else if (isObject(req.body) && 'records' in req.body) {
      input = columnsFromRecords(req.body.records, features);
    } else if (isObject(req.body) && 'file_location' in req.body) {
      const file = resolveInsideFolders(req.body.file_location, config.baseFolder, [config.input_folder_path, config.output_folder_path, config.test_data_path]);
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
    const input = typeof req.body === 'string' ? columnsFromCsv(req.body, { ...config.schema, features, target: served.model.target }) : columnsFromMlflow(req.body, features);
    const { predictions } = predict(served, input);
    predictedRows.inc({ endpoint: 'invocations' }, input.rows);
    res.json({ predictions: Array.from(predictions) });
  });

  app.get('/scoring', (_req, res) => {
    const served = watcher.require();
    res.json(scoreCache(testData, String(served.version)));
  });

  app.get('/summarystats', (_req, res) => {
    res.json(summaryCache(finalData));
  });

  app.get('/diagnostics', async (_req, res) => {
    const [timing, dependencies] = await Promise.all([timings(), cachedDependencies(config)]);
    const missing = fs.existsSync(finalData) ? missingCache(finalData) : null;
    res.json({
      model_version: watcher.current()?.version ?? null,
      missing_data: missing,
      timings: timing,
      dependencies,
    });
  });

  app.get('/health', (_req, res) => {
    const served = watcher.current();
    if (served) {
      res.json({ status: 'ok', model_version: served.version, loaded_at: served.loadedAt, deployed_at: served.record.deployed_at });
    } else {
      res.status(503).json({ status: 'unavailable', error: watcher.unavailableReason() });
    }
  });

  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  app.get('/runs', (req, res) => {
    const runs = readRuns(config.prod_deployment_path, log);
    const limit = req.query.limit === undefined ? undefined : Number(req.query.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UserError('"limit" must be a positive integer');
    res.json({ runs: limit ? runs.slice(-limit) : runs });
  });

  app.get('/drift', (_req, res) => {
    const runs = readRuns(config.prod_deployment_path, log);
    const latest = [...runs].reverse().find((run) => run.model_drift || run.data_drift);
    if (!latest) {
      res.json({ drift: null, reason: 'no fullprocess run has checked for drift yet' });
      return;
    }
    res.json({ run_id: latest.run_id, started_at: latest.started_at, outcome: latest.outcome, model_drift: latest.model_drift, data_drift: latest.data_drift });
  });

  app.use((req, res) => {
    const allowed = KNOWN_ROUTES[req.path];
    if (allowed) {
      res.set('Allow', allowed.join(', ')).status(405).json({ error: `${req.method} is not allowed on ${req.path} (use ${allowed.join(', ')})` });
      return;
    }
    res.status(404).json({ error: `no such endpoint: ${req.method} ${req.path}` });
  });
  app.use(errorHandler(log, config.api.body_limit));
  return app;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rejects a POST without a body or with a content type no parser reads. */
function requireBody(req: Request, _res: Response, next: NextFunction): void {
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
    if (!expected || req.path === '/health') return next();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = match ? Buffer.from(match[1].trim()) : Buffer.alloc(0);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    res.set('WWW-Authenticate', 'Bearer').status(401).json({ error: match ? 'invalid bearer token' : 'missing bearer token (Authorization: Bearer <token>)' });
  };
}

/** The one error handler: caller mistakes get their 4xx and message, anything else a 500 without details. */
function errorHandler(log: Logger, limit: string | number) {
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
    if (status >= 500) log.error(`${req.method} ${req.path} failed: ${messageOf(error)}`, { stack: (error as Error)?.stack });
    if (res.headersSent) return;
    res.status(status).json({ error: message });
  };
}
