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
import { UserError } from './lib/errors.js';
import { evaluateModel, readDataForModel } from './lib/evaluation.js';
import { ensureFolder, sha256, writeFileAtomic, writeJsonAtomic } from './lib/files.js';
import { artefactPaths } from './lib/layout.js';
import { silentLogger, type Logger } from './lib/log.js';
import { loadModelFile } from './lib/model.js';
import type { ScoreRecord } from './lib/records.js';

/** Options of the scoring stage. */
export interface ScoringOptions {
  /** Score this model file instead of `output_model_path/trainedmodel.json`. */
  model?: string;
  /** Score on this CSV instead of `test_data_path/testdata.csv`. */
  data?: string;
  /** Write latestscore.txt/json (default true). */
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
