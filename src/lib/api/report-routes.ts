/**
 * The read-only figures: GET /scoring, /summarystats, /diagnostics, /runs and /drift.
 * What reads a data file runs on the report worker thread (report-worker.ts),
 * cached until the file changes; timings and the dependency check run in child processes.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Request, Response } from 'express';
import { cachedDependencies, type DependencyReport } from '../diagnostics/dependencies.js';
import { UserError } from '../errors.js';
import type { Metrics } from '../model/metrics.js';
import type { ServedModel } from './model-watcher.js';
import { readRuns } from '../store/run-history.js';
import { fileCache, sharedResult } from './cache.js';
import { ReportWorker, type JobRunner } from './report-worker.js';
import { RouteTable, type ApiContext } from './routes.js';
import type { TimingProvider } from './timings.js';

/** Where the slow figures come from (tests replace them). */
export interface ReportSources {
  timings: TimingProvider;
  /** Dependency status; defaults to `npm outdated` (slow, needs the registry), cached. */
  dependencies?: () => Promise<DependencyReport>;
  /** Where the data-reading work runs; defaults to a report worker thread of this app. */
  jobs?: JobRunner;
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
  const jobs = sources.jobs ?? new ReportWorker();
  const summaryCache = fileCache(
    async (file) => ({ ...(await jobs.run('summary', { file, schema: config.schema })), data_file: finalDataName }),
    'run ingestion first',
  );
  const missingCache = fileCache(
    async (file) => ({ ...(await jobs.run('missing', { file })), data_file: finalDataName }),
    'run ingestion first',
  );
  const scoreServedModel = async (file: string, served: ServedModel): Promise<Metrics & { model_version: number; data_file: string }> => {
    const metrics = await jobs.run('score', { file, label: testDataName, model: served.model, schema: config.schema });
    return { ...metrics, model_version: served.version, data_file: testDataName };
  };
  // Keyed by the deployment it was computed for, so a switch in between cannot pair one model with another's score.
  const scoreCache = fileCache(scoreServedModel, `put the test data in ${path.basename(config.test_data_path)}`);

  return new RouteTable()
    .get('/scoring', async (_req: Request, res: Response) => {
      const served = watcher.require();
      res.json(await scoreCache(paths.testData, served, served.fingerprint));
    })
    .get('/summarystats', async (_req: Request, res: Response) => {
      res.json(await summaryCache(paths.finalData, undefined));
    })
    .get('/diagnostics', async (_req: Request, res: Response) => {
      const [timing, dependencyReport, missing] = await Promise.all([
        sources.timings(),
        dependencies(),
        fs.existsSync(paths.finalData) ? missingCache(paths.finalData, undefined) : null,
      ]);
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
