/**
 * diagnostics: the deployed model's predictions on the test data, summary
 * statistics and missing data of `finaldata.csv`, wall times of ingestion and
 * training (run into a scratch folder that touches no real output) and the
 * dependency status. Writes `output_model_path/diagnostics.json`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCommand } from './lib/cli.js';
import { withScratchOutputs, type Config } from './lib/config.js';
import { readCsvFile } from './lib/csv.js';
import { readDataset } from './lib/dataset.js';
import { checkDependencies, type DependencyReport } from './lib/dependencies.js';
import { readCurrentDeployment } from './lib/deploy-store.js';
import { UserError, messageOf } from './lib/errors.js';
import { ensureFolder, exists, readJsonIfExists, writeJsonAtomic } from './lib/files.js';
import { silentLogger, type Logger } from './lib/log.js';
import { classify, loadModelFile, predictProbabilities } from './lib/model.js';
import { PROJECT_ROOT } from './lib/project.js';
import { describe, type ColumnSummary } from './lib/stats.js';
import { FINAL_DATA, runIngestion } from './ingestion.js';
import { TEST_DATA } from './scoring.js';
import { runTraining } from './training.js';

export const DIAGNOSTICS_RECORD = 'diagnostics.json';
const DEPENDENCY_CACHE = '.dependencies-cache.json';

/** Summary statistics of the ingested data, per numeric column. */
export interface SummaryStatistics {
  data_file: string;
  rows: number;
  columns: Record<string, ColumnSummary>;
}

/** Missing cells per column of the ingested data. */
export interface MissingData {
  data_file: string;
  rows: number;
  columns: Record<string, { missing: number; percent: number }>;
}

/** The deployed model's predictions on the test data. */
export type PredictionsReport =
  | { status: 'ok'; model_version: number; data_file: string; rows: number; predictions: number[]; probabilities: number[] }
  | { status: 'unavailable'; reason: string };

/** Wall times of ingestion and training. */
export type TimingReport =
  { status: 'ok'; ingestion_seconds: number; training_seconds: number; rows: number } | { status: 'unavailable'; reason: string };

/** The diagnostics record (`diagnostics.json`) and stage result. */
export interface DiagnosticsResult {
  generated_at: string;
  model_version: number | null;
  predictions: PredictionsReport;
  summary_statistics: SummaryStatistics;
  missing_data: MissingData;
  timings: TimingReport;
  dependencies: DependencyReport;
}

/** Options of the diagnostics stage. */
export interface DiagnosticsOptions {
  /** Skip writing diagnostics.json (the API asks for fresh figures). */
  write?: boolean;
  /** Skip the ingestion/training timing runs. */
  timings?: boolean;
  /** Skip the dependency check. */
  dependencies?: boolean;
}

/** Summary statistics (features and target) of a data file. */
export function summarizeData(file: string, config: Config): SummaryStatistics {
  const data = readDataset(file, config.schema, { label: path.basename(file) });
  const columns: Record<string, ColumnSummary> = {};
  data.features.forEach((feature, f) => (columns[feature] = describe(data.columns[f])));
  columns[config.schema.target] = describe(data.target!);
  return { data_file: file, rows: data.rows, columns };
}

/** Counts empty cells per column (every column of the file). */
export function countMissing(file: string): MissingData {
  let header: string[] | undefined;
  let counts: number[] = [];
  let rows = 0;
  readCsvFile(file, path.basename(file), (fields) => {
    if (!header) {
      header = fields;
      counts = fields.map(() => 0);
      return;
    }
    rows++;
    for (let i = 0; i < counts.length; i++) if (i >= fields.length || fields[i].trim() === '') counts[i]++;
  });
  const columns: MissingData['columns'] = {};
  (header ?? []).forEach((name, i) => (columns[name] = { missing: counts[i], percent: rows === 0 ? 0 : (100 * counts[i]) / rows }));
  return { data_file: file, rows, columns };
}

/** Predictions of the deployed model on the test data. */
export function deployedPredictions(config: Config): PredictionsReport {
  const current = readCurrentDeployment(config.prod_deployment_path);
  if (!current) return { status: 'unavailable', reason: `no model is deployed in ${config.prod_deployment_path}` };
  const model = loadModelFile(path.join(current.folder, 'trainedmodel.json'));
  const file = path.join(config.test_data_path, TEST_DATA);
  if (!exists(file)) return { status: 'unavailable', reason: `test data not found: ${file}` };
  const data = readDataset(
    file,
    { ...config.schema, features: model.features, target: model.target },
    { label: TEST_DATA, requireTarget: false },
  );
  const probabilities = predictProbabilities(model, data.columns);
  return {
    status: 'ok',
    model_version: current.version,
    data_file: file,
    rows: data.rows,
    predictions: Array.from(classify(probabilities)),
    probabilities: Array.from(probabilities),
  };
}

/** Times ingestion and training as they run on the real inputs, writing only into a scratch folder. */
export async function timeStages(config: Config): Promise<TimingReport> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'risk-timing-'));
  try {
    const scratchConfig = withScratchOutputs(config, scratch);
    let started = performance.now();
    const ingestion = await runIngestion(scratchConfig);
    const ingestionSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    await runTraining(scratchConfig);
    const trainingSeconds = (performance.now() - started) / 1000;
    return { status: 'ok', ingestion_seconds: ingestionSeconds, training_seconds: trainingSeconds, rows: ingestion.rows_kept };
  } catch (error) {
    return { status: 'unavailable', reason: messageOf(error) };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Dependency status, cached in output_model_path for `diagnostics.outdated_cache_seconds`. */
export async function cachedDependencies(config: Config): Promise<DependencyReport> {
  const cacheFile = path.join(config.output_model_path, DEPENDENCY_CACHE);
  const cached = readJsonIfExists(cacheFile) as DependencyReport | undefined;
  const maxAge = config.diagnostics.outdated_cache_seconds * 1000;
  if (cached?.status === 'ok' && Date.now() - Date.parse(cached.checked_at) < maxAge) return cached;
  const report = await checkDependencies(PROJECT_ROOT, config.diagnostics.outdated_timeout_ms);
  if (report.status === 'ok') {
    ensureFolder(config.output_model_path);
    writeJsonAtomic(cacheFile, report);
  }
  return report;
}

/** Runs diagnostics with the given config. */
export async function runDiagnostics(
  config: Config,
  options: DiagnosticsOptions = {},
  log: Logger = silentLogger,
): Promise<DiagnosticsResult> {
  const finalData = path.join(config.output_folder_path, FINAL_DATA);
  if (!exists(finalData)) throw new UserError(`ingested data not found: ${finalData} (run ingestion first)`);
  const dependencyCheck =
    options.dependencies === false
      ? Promise.resolve<DependencyReport>({
          status: 'unavailable',
          reason: 'skipped (--no-dependencies)',
          checked_at: new Date().toISOString(),
          duration_ms: 0,
          packages: [],
        })
      : cachedDependencies(config);
  const predictions = deployedPredictions(config);
  const summary = summarizeData(finalData, config);
  const missing = countMissing(finalData);
  const timings: TimingReport =
    options.timings === false ? { status: 'unavailable', reason: 'skipped (--no-timings)' } : await timeStages(config);
  const dependencies = await dependencyCheck;
  if (dependencies.status !== 'ok') log.warn(`dependency status unavailable: ${dependencies.reason}`);
  const result: DiagnosticsResult = {
    generated_at: new Date().toISOString(),
    model_version: predictions.status === 'ok' ? predictions.model_version : null,
    predictions,
    summary_statistics: summary,
    missing_data: missing,
    timings,
    dependencies,
  };
  if (options.write ?? true) {
    ensureFolder(config.output_model_path);
    writeJsonAtomic(path.join(config.output_model_path, DIAGNOSTICS_RECORD), result);
  }
  log.info('diagnostics done', { model_version: result.model_version, timings: timings.status, dependencies: dependencies.status });
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCommand<{ write: boolean; timings: boolean; dependencies: boolean; timingsOnly?: boolean }>({
    name: 'diagnostics',
    description: 'Deployed-model predictions, summary statistics, missing data, stage timings and dependency status',
    options: (program) =>
      program
        .option('--no-write', 'print without writing diagnostics.json')
        .option('--no-timings', 'skip the ingestion/training timing runs')
        .option('--no-dependencies', 'skip the npm outdated check')
        .option('--timings-only', 'only time ingestion and training (used by the API)'),
    run: async (config, options, log) =>
      options.timingsOnly ? { timings: await timeStages(config) } : runDiagnostics(config, options, log),
  });
}
