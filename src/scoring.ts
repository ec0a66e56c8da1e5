/**
 * scoring: scores a model on `test_data_path/testdata.csv`. Writes the F1 to
 * `output_model_path/latestscore.txt` (as the original) and every metric to
 * `latestscore.json`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCommand, resolveUserPath } from './lib/cli.js';
import type { Config } from './lib/config.js';
import { readDataset, type Dataset } from './lib/dataset.js';
import { UserError } from './lib/errors.js';
import { ensureFolder, exists, sha256, writeFileAtomic, writeJsonAtomic } from './lib/files.js';
import { silentLogger, type Logger } from './lib/log.js';
import { computeMetrics, type Metrics } from './lib/metrics.js';
import { classify, loadModelFile, predictProbabilities, type ModelFile } from './lib/model.js';
import { MODEL_FILE } from './training.js';

export const TEST_DATA = 'testdata.csv';
export const SCORE_TEXT = 'latestscore.txt';
export const SCORE_RECORD = 'latestscore.json';

/** Options of the scoring stage. */
export interface ScoringOptions {
  /** Score this model file instead of `output_model_path/trainedmodel.json`. */
  model?: string;
  /** Score on this CSV instead of `test_data_path/testdata.csv`. */
  data?: string;
  /** Write latestscore.txt/json (default true). */
  write?: boolean;
}

/** The scoring record (`latestscore.json`) and stage result. */
export interface ScoringResult extends Metrics {
  model_file: string;
  model_sha256: string;
  model_trained_at: string;
  data_file: string;
  data_sha256: string;
  scored_at: string;
  written?: { text: string; record: string };
}

/** Scores a loaded model on a labelled dataset: probabilities, 0/1 predictions and metrics. */
export function evaluateModel(model: ModelFile, data: Dataset): { metrics: Metrics; probabilities: Float64Array; predictions: Uint8Array } {
  if (!data.target) throw new UserError('scoring needs labelled data (a target column)');
  const probabilities = predictProbabilities(model, data.columns);
  const predictions = classify(probabilities);
  return { metrics: computeMetrics(data.target, predictions, probabilities), probabilities, predictions };
}

/** Reads a labelled file with the columns a model expects. */
export function readDataForModel(file: string, model: ModelFile, config: Config): Dataset & { digest: { sha256: string } } {
  if (!exists(file)) throw new UserError(`data file not found: ${file}`);
  const schema = { ...config.schema, features: model.features, target: model.target };
  return readDataset(file, schema, { label: path.basename(file) });
}

/** Runs scoring with the given config. */
export async function runScoring(config: Config, options: ScoringOptions = {}, log: Logger = silentLogger): Promise<ScoringResult> {
  const modelFile = options.model ?? path.join(config.output_model_path, MODEL_FILE);
  const model = loadModelFile(modelFile);
  const modelSha = sha256(fs.readFileSync(modelFile));
  const dataFile = options.data ?? path.join(config.test_data_path, TEST_DATA);
  const data = readDataForModel(dataFile, model, config);
  if (data.rows === 0) throw new UserError(`${dataFile} has no data rows to score on`);
  const { metrics } = evaluateModel(model, data);
  const result: ScoringResult = {
    ...metrics,
    model_file: modelFile,
    model_sha256: modelSha,
    model_trained_at: model.training.trained_at,
    data_file: dataFile,
    data_sha256: data.digest.sha256,
    scored_at: new Date().toISOString(),
  };
  if (options.write ?? true) {
    ensureFolder(config.output_model_path);
    const text = path.join(config.output_model_path, SCORE_TEXT);
    const record = path.join(config.output_model_path, SCORE_RECORD);
    writeJsonAtomic(record, result);
    writeFileAtomic(text, String(metrics.f1) + '\n');
    result.written = { text, record };
  }
  log.info(`F1 ${metrics.f1.toFixed(4)} on ${data.rows} rows of ${path.basename(dataFile)}`);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCommand<{ model?: string; data?: string; write: boolean }>({
    name: 'scoring',
    description: 'Score the trained model on the test data: F1 to latestscore.txt, every metric to latestscore.json',
    options: (program) =>
      program
        .option('--model <file>', 'score this model file instead of output_model_path/trainedmodel.json')
        .option('--data <csv>', 'score on this CSV instead of test_data_path/testdata.csv')
        .option('--no-write', 'print the metrics without writing latestscore.txt/json'),
    run: (config, options, log) =>
      runScoring(
        config,
        {
          model: options.model && resolveUserPath(options.model),
          data: options.data && resolveUserPath(options.data),
          write: options.write,
        },
        log,
      ),
  });
}
