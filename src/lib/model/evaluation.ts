/** Evaluating a model on a labelled data file: read with the model's columns, predict, score. */
import path from 'node:path';
import type { DataSchema } from '../config.js';
import { readDataset, type Dataset } from '../data/dataset.js';
import { UserError } from '../errors.js';
import { exists } from '../store/files.js';
import { computeMetrics, type Metrics } from './metrics.js';
import { classify, predictProbabilities, schemaForModel, type ModelFile } from './model-file.js';

/** Scores a loaded model on a labelled dataset: probabilities, 0/1 predictions and metrics. */
export function evaluateModel(model: ModelFile, data: Dataset): { metrics: Metrics; probabilities: Float64Array; predictions: Uint8Array } {
  if (!data.target) throw new UserError('scoring needs labelled data (a target column)');
  const probabilities = predictProbabilities(model, data.columns, data.categories);
  const predictions = classify(probabilities);
  return { metrics: computeMetrics(data.target, predictions, probabilities), probabilities, predictions };
}

/** Reads a labelled file with the columns a model expects. */
export function readDataForModel(file: string, model: ModelFile, schema: DataSchema): Dataset & { digest: { sha256: string } } {
  if (!exists(file)) throw new UserError(`data file not found: ${file}`);
  return readDataset(file, schemaForModel(schema, model), { label: path.basename(file) });
}
