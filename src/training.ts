/**
 * training: fits the logistic-regression model on the ingested data and writes
 * the model file into `output_model_path`.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCommand, resolveUserPath } from './lib/cli.js';
import type { Config } from './lib/config.js';
import { readDataset } from './lib/data/dataset.js';
import { UserError } from './lib/errors.js';
import { ensureFolder, exists, writeJsonAtomic } from './lib/store/files.js';
import { artefactPaths, FILE_NAMES } from './lib/layout.js';
import { silentLogger, type Logger } from './lib/log.js';
import { fitLogisticRegression, type Convergence } from './lib/model/fit.js';
import { buildModelFile } from './lib/model/model-file.js';
import { PACKAGE_VERSION } from './lib/project.js';
import { profileColumn } from './lib/model/drift.js';
import { startProgress } from './lib/progress.js';

/** Options of the training stage. */
export interface TrainingOptions {
  /** Train on this CSV instead of the ingested data. */
  data?: string;
  /** Write the model here instead of into `output_model_path`. */
  output?: string;
}

/** Result printed by the training stage. */
export interface TrainingResult {
  model_file: string;
  data_file: string;
  rows: number;
  objective: string;
  C: number;
  iterations: number;
  converged: boolean;
  convergence: Convergence;
  intercept: number;
  coefficients: Record<string, number>;
  /** Levels seen in training, per categorical feature. */
  levels: Record<string, number>;
  duration_ms: number;
}

/** Runs training with the given config. */
export async function runTraining(config: Config, options: TrainingOptions = {}, log: Logger = silentLogger): Promise<TrainingResult> {
  const started = performance.now();
  const dataFile = options.data ?? artefactPaths(config).finalData;
  if (!exists(dataFile)) throw new UserError(`training data not found: ${dataFile} (run ingestion first)`);
  const progress = startProgress('training');
  progress.update(`reading ${path.basename(dataFile)}`);
  const data = readDataset(dataFile, config.schema, { label: path.basename(dataFile), ids: false });
  log.info(`read ${data.rows} rows from ${dataFile}`);
  // The raw columns' profile first: the fit then imputes and standardizes them in place.
  const profile = Object.fromEntries(data.features.map((feature, f) => [feature, profileColumn(data.columns[f])]));
  progress.update(() => `fitting on ${data.rows.toLocaleString('en')} rows`);
  const fit = fitLogisticRegression(
    { features: data.features, columns: data.columns, categories: data.categories, target: data.target! },
    config.model,
    { inPlace: true },
  );
  progress.done();
  if (!fit.convergence.converged) {
    log.warn(`did not converge in ${fit.convergence.iterations} iterations (model.max_iter); the model is written anyway`, {
      ...fit.convergence,
    });
  }
  const durationMs = Math.round(performance.now() - started);
  const model = buildModelFile(
    fit,
    data.features,
    config.schema.target,
    config.model,
    {
      rows: data.rows,
      data_file: path.basename(dataFile),
      data_sha256: data.digest.sha256,
      trained_at: new Date().toISOString(),
      package_version: PACKAGE_VERSION,
      duration_ms: durationMs,
    },
    profile,
  );
  const modelFile = options.output ?? artefactPaths(config).model;
  ensureFolder(path.dirname(modelFile));
  writeJsonAtomic(modelFile, model);
  log.info(`model written to ${modelFile}`, { iterations: fit.convergence.iterations, converged: fit.convergence.converged });
  return {
    model_file: modelFile,
    data_file: dataFile,
    rows: data.rows,
    objective: config.model.objective,
    C: config.model.C,
    iterations: fit.convergence.iterations,
    converged: fit.convergence.converged,
    convergence: fit.convergence,
    intercept: fit.intercept,
    coefficients: Object.fromEntries(data.features.map((feature, f) => [feature, fit.coefficients[f]])),
    levels: Object.fromEntries(fit.categorical.map(({ feature, levels }) => [feature, levels.length])),
    duration_ms: durationMs,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCommand<{ data?: string; output?: string }>({
    name: 'training',
    description: `Fit the logistic-regression model on ${FILE_NAMES.finalData} and write ${FILE_NAMES.model}`,
    options: (program) =>
      program
        .option('--data <csv>', `train on this CSV instead of output_folder_path/${FILE_NAMES.finalData}`)
        .option('--output <file>', `write the model here instead of output_model_path/${FILE_NAMES.model}`),
    run: (config, options, log) =>
      runTraining(
        config,
        { data: options.data && resolveUserPath(options.data), output: options.output && resolveUserPath(options.output) },
        log,
      ),
  });
}
