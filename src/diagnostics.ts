/**
 * diagnostics: the deployed model's predictions on the test data, summary
 * statistics and missing data of the ingested data, wall times of ingestion and
 * training (run into a scratch folder that touches no real output) and the
 * dependency status. Writes the diagnostics record into `output_model_path`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCommand } from './lib/cli.js';
import { withScratchOutputs, type Config } from './lib/config.js';
import { countMissing, summarizeData } from './lib/diagnostics/data-summary.js';
import { readDataset } from './lib/data/dataset.js';
import { cachedDependencies, type DependencyReport } from './lib/diagnostics/dependencies.js';
import { readCurrentDeployment } from './lib/store/deploy-store.js';
import { UserError, messageOf } from './lib/errors.js';
import { ensureFolder, exists, makeScratchFolder, writeJsonAtomic } from './lib/store/files.js';
import { artefactPaths, deployedFile, FILE_NAMES } from './lib/layout.js';
import { silentLogger, type Logger } from './lib/log.js';
import { classify, loadModelFile, predictProbabilities, schemaForModel } from './lib/model/model-file.js';
import {
  isDiagnosticsRecord,
  readRecordFile,
  type DiagnosticsRecord,
  type PredictionsReport,
  type TimingReport,
} from './lib/store/records.js';
import { runIngestion } from './ingestion.js';
import { runTraining } from './training.js';

/** The stage result is the diagnostics record. */
export type DiagnosticsResult = DiagnosticsRecord;

/** Options of the diagnostics stage. */
export interface DiagnosticsOptions {
  /** Skip writing the diagnostics record (the API asks for fresh figures). */
  write?: boolean;
  /** Skip the ingestion/training timing runs. */
  timings?: boolean | 'reuse';
  /** Skip the dependency check. */
  dependencies?: boolean;
}

/** Predictions of the deployed model on the test data. */
function deployedPredictions(config: Config): PredictionsReport {
  const current = readCurrentDeployment(config.prod_deployment_path);
  if (!current) return { status: 'unavailable', reason: `no model is deployed in ${config.prod_deployment_path}` };
  const model = loadModelFile(deployedFile(current.folder, FILE_NAMES.model));
  const file = artefactPaths(config).testData;
  if (!exists(file)) return { status: 'unavailable', reason: `test data not found: ${file}` };
  const data = readDataset(file, schemaForModel(config.schema, model), { label: path.basename(file), requireTarget: false });
  const probabilities = predictProbabilities(model, data.columns, data.categories);
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
  const scratch = makeScratchFolder('timing');
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

/** The timings of the diagnostics record already written, when they were measured. */
function earlierTimings(config: Config): TimingReport | undefined {
  try {
    const earlier = readRecordFile(artefactPaths(config).diagnostics, 'a diagnostics record', isDiagnosticsRecord);
    return earlier?.timings?.status === 'ok' ? earlier.timings : undefined;
  } catch {
    return undefined;
  }
}

/** Runs diagnostics with the given config. */
export async function runDiagnostics(
  config: Config,
  options: DiagnosticsOptions = {},
  log: Logger = silentLogger,
): Promise<DiagnosticsResult> {
  const finalData = artefactPaths(config).finalData;
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
  const summary = summarizeData(finalData, config.schema);
  const missing = countMissing(finalData);
  const timings: TimingReport =
    options.timings === false
      ? { status: 'unavailable', reason: 'skipped (--no-timings)' }
      : ((options.timings === 'reuse' ? earlierTimings(config) : undefined) ?? (await timeStages(config)));
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
    writeJsonAtomic(artefactPaths(config).diagnostics, result);
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
        .option('--no-write', `print without writing ${FILE_NAMES.diagnostics}`)
        .option('--no-timings', 'skip the ingestion/training timing runs')
        .option('--no-dependencies', 'skip the npm outdated check')
        .option('--timings-only', 'only time ingestion and training (used by the API)'),
    run: async (config, options, log) =>
      options.timingsOnly ? { timings: await timeStages(config) } : runDiagnostics(config, options, log),
  });
}
