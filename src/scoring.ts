/**
 * scoring: scores a model on the test data. Writes the F1 to the score text
 * file of `output_model_path` (as the original) and every metric to the
 * scoring record beside it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCommand, resolveUserPath } from './lib/cli.js';
import type { Config } from './lib/config.js';
import { UserError } from './lib/errors.js';
import { evaluateModel, readDataForModel } from './lib/model/evaluation.js';
import { ensureFolder, sha256, writeFileAtomic, writeJsonAtomic } from './lib/store/files.js';
import { artefactPaths, FILE_NAMES } from './lib/layout.js';
import { silentLogger, type Logger } from './lib/log.js';
import { loadModelFile } from './lib/model/model-file.js';
import type { ScoreRecord } from './lib/store/records.js';

/** Options of the scoring stage. */
export interface ScoringOptions {
  /** Score this model file instead of the trained model of `output_model_path`. */
  model?: string;
  /** Score on this CSV instead of the test data. */
  data?: string;
  /** Write the score text file and the scoring record (default true). */
  write?: boolean;
}

/** The stage result: the scoring record, and where it was written. */
export interface ScoringResult extends ScoreRecord {
  written?: { text: string; record: string };
}

/** Runs scoring with the given config. */
export async function runScoring(config: Config, options: ScoringOptions = {}, log: Logger = silentLogger): Promise<ScoringResult> {
  const paths = artefactPaths(config);
  const modelFile = options.model ?? paths.model;
  const model = loadModelFile(modelFile);
  const modelSha = sha256(fs.readFileSync(modelFile));
  const dataFile = options.data ?? paths.testData;
  const data = readDataForModel(dataFile, model, config.schema);
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
    writeJsonAtomic(paths.scoreRecord, result);
    writeFileAtomic(paths.scoreText, String(metrics.f1) + '\n');
    result.written = { text: paths.scoreText, record: paths.scoreRecord };
  }
  log.info(`F1 ${metrics.f1.toFixed(4)} on ${data.rows} rows of ${path.basename(dataFile)}`);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCommand<{ model?: string; data?: string; write: boolean }>({
    name: 'scoring',
    description: `Score the trained model on the test data: F1 to ${FILE_NAMES.scoreText}, every metric to ${FILE_NAMES.scoreRecord}`,
    options: (program) =>
      program
        .option('--model <file>', `score this model file instead of output_model_path/${FILE_NAMES.model}`)
        .option('--data <csv>', `score on this CSV instead of test_data_path/${FILE_NAMES.testData}`)
        .option('--no-write', `print the metrics without writing ${FILE_NAMES.scoreText} and ${FILE_NAMES.scoreRecord}`),
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
