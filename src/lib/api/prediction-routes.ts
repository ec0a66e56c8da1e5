/** POST /prediction (the original's formats) and POST /invocations (MLflow's scoring formats). */
import express, { type Request, type Response } from 'express';
import type { Counter } from 'prom-client';
import { readDataset } from '../dataset.js';
import { UserError } from '../errors.js';
import { classify, predictProbabilities, schemaForModel } from '../model.js';
import type { ServedModel } from '../model-watcher.js';
import { columnsFromCsv, columnsFromMlflow, columnsFromRecords, unlabelledSchema, type FeatureColumns } from '../prediction-input.js';
import { resolveInsideFolders } from '../safe-path.js';
import { requireBody } from './middleware.js';
import { RouteTable, type ApiContext } from './routes.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function predict(served: ServedModel, input: FeatureColumns): { probabilities: Float64Array; predictions: Uint8Array } {
  const probabilities = predictProbabilities(served.model, input.columns);
  return { probabilities, predictions: classify(probabilities) };
}

/** The prediction routes; `predictedRows` counts the rows each endpoint predicted. */
export function predictionRoutes(context: ApiContext, predictedRows: Counter<'endpoint'>): RouteTable {
  const { config, watcher } = context;
  const jsonBody = express.json({ limit: config.api.body_limit, strict: true });
  const csvBody = express.text({ type: ['text/csv', 'text/plain', 'application/csv'], limit: config.api.body_limit });
  const dataFolders = [config.input_folder_path, config.output_folder_path, config.test_data_path];

  /** The columns a /prediction body asks for. */
  const predictionInput = (body: unknown, served: ServedModel): FeatureColumns => {
    const features = served.model.features;
    // A target column in the input is ignored, not validated: callers predict for clients whose outcome is unknown.
    const schema = unlabelledSchema(schemaForModel(config.schema, served.model));
    if (typeof body === 'string') return columnsFromCsv(body, schema);
    if (isObject(body) && 'records' in body) return columnsFromRecords(body.records, features);
    if (isObject(body) && 'file_location' in body) {
      const file = resolveInsideFolders(body.file_location, config.baseFolder, dataFolders);
      const data = readDataset(file, schema, { label: String(body.file_location), requireTarget: false });
      if (data.rows === 0) throw new UserError(`"file_location" ${JSON.stringify(body.file_location)} has no data rows`);
      return { columns: data.columns, rows: data.rows };
    }
    throw new UserError('expected {"records": [...]}, {"file_location": "<path>"} or a text/csv body');
  };

  return new RouteTable()
    .post('/prediction', requireBody, jsonBody, csvBody, (req: Request, res: Response) => {
      const served = watcher.require();
      const input = predictionInput(req.body, served);
      const { probabilities, predictions } = predict(served, input);
      predictedRows.inc({ endpoint: 'prediction' }, input.rows);
      res.json({ predictions: Array.from(predictions), probabilities: Array.from(probabilities), model_version: served.version });
    })
    .post('/invocations', requireBody, jsonBody, csvBody, (req: Request, res: Response) => {
      const served = watcher.require();
      const input =
        typeof req.body === 'string'
          ? columnsFromCsv(req.body, schemaForModel(config.schema, served.model))
          : columnsFromMlflow(req.body, served.model.features);
      const { predictions } = predict(served, input);
      predictedRows.inc({ endpoint: 'invocations' }, input.rows);
      res.json({ predictions: Array.from(predictions) });
    });
}
