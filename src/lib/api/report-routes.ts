/** The read-only figures: GET /scoring, /summarystats, /diagnostics, /runs and /drift. */
import fs from 'node:fs';
import path from 'node:path';
import type { Request, Response } from 'express';
import { countMissing, summarizeData } from '../data-summary.js';
import { readDataset } from '../dataset.js';
import { cachedDependencies, type DependencyReport } from '../dependencies.js';
import { UnavailableError, UserError } from '../errors.js';
import { computeMetrics, type Metrics } from '../metrics.js';
import { classify, predictProbabilities, schemaForModel } from '../model.js';
import type { ServedModel } from '../model-watcher.js';
import { readRuns } from '../run-history.js';
import { fileCache, sharedResult } from './cache.js';
import { RouteTable, type ApiContext } from './routes.js';
import type { TimingProvider } from './timings.js';

/** Where the slow figures come from (tests replace them). */
export interface ReportSources {
  timings: TimingProvider;
  /** Dependency status; defaults to `npm outdated` (slow, needs the registry), cached. */
  dependencies?: () => Promise<DependencyReport>;
}

/** The report routes. */
export function reportRoutes(context: ApiContext, sources: ReportSources): RouteTable {
  const { config, paths, watcher, log, redact } = context;
  const finalDataName = path.basename(paths.finalData);
  const testDataName = path.basename(paths.testData);
  // `npm outdated` takes seconds and up to its time-out when the registry is unreachable:
  // concurrent requests share one check, and an unavailable answer is reused for a minute.
  const dependencies = sharedResult(sources.dependencies ?? (() => cachedDependencies(config)), (report) =>
    report.status === 'ok' ? config.diagnostics.outdated_cache_seconds * 1000 : 60_000,
  );
  const summaryCache = fileCache((file) => ({ ...summarizeData(file, config.schema), data_file: finalDataName }), 'run ingestion first');
  const missingCache = fileCache((file) => ({ ...countMissing(file), data_file: finalDataName }), 'run ingestion first');
  const scoreServedModel = (file: string, served: ServedModel): Metrics & { model_version: number; data_file: string } => {
    const data = readDataset(file, schemaForModel(config.schema, served.model), { label: testDataName });
    if (data.rows === 0) throw new UnavailableError(`${testDataName} has no rows to score on`);
    const probabilities = predictProbabilities(served.model, data.columns);
    const metrics = computeMetrics(data.target!, classify(probabilities), probabilities);
    return { ...metrics, model_version: served.version, data_file: testDataName };
  };
  // Keyed by the deployment it was computed for, so a switch in between cannot pair one model with another's score.
  const scoreCache = fileCache(scoreServedModel, `put the test data in ${path.basename(config.test_data_path)}`);

  return new RouteTable()
    .get('/scoring', (_req: Request, res: Response) => {
      const served = watcher.require();
      res.json(scoreCache(paths.testData, served, served.fingerprint));
    })
    .get('/summarystats', (_req: Request, res: Response) => {
      res.json(summaryCache(paths.finalData, undefined));
    })
    .get('/diagnostics', async (_req: Request, res: Response) => {
      const [timing, dependencyReport] = await Promise.all([sources.timings(), dependencies()]);
      const missing = fs.existsSync(paths.finalData) ? missingCache(paths.finalData, undefined) : null;
      res.json({
        model_version: watcher.current()?.version ?? null,
        missing_data: missing,
        timings: timing.status === 'ok' ? timing : { ...timing, reason: redact(timing.reason) },
        dependencies:
          dependencyReport.reason === undefined ? dependencyReport : { ...dependencyReport, reason: redact(dependencyReport.reason) },
      });
    })
    .get('/runs', (req: Request, res: Response) => {
      const runs = readRuns(config.prod_deployment_path, log);
      const limit = req.query.limit === undefined ? undefined : Number(req.query.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UserError('"limit" must be a positive integer');
      const shown = (limit ? runs.slice(-limit) : runs).map((run) => ({ ...run, config_file: redact(run.config_file ?? '') }));
      res.json({ runs: shown });
    })
    .get('/drift', (_req: Request, res: Response) => {
      const runs = readRuns(config.prod_deployment_path, log);
      const latest = [...runs].reverse().find((run) => run.model_drift || run.data_drift);
      if (!latest) {
        res.json({ drift: null, reason: 'no fullprocess run has checked for drift yet' });
        return;
      }
      const { run_id, started_at, outcome, model_drift, data_drift } = latest;
      res.json({ run_id, started_at, outcome, model_drift, data_drift });
    });
}
