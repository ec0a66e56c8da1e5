/**
 * /prediction (the original's ways in: records, CSV, a data file named by any
 * of its clients' keys in the body or the query, on GET or POST, or one CSV
 * upload) and POST /invocations (MLflow's scoring formats and errors).
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import bytes from 'bytes';
import multer from 'multer';
import type { Counter } from 'prom-client';
import { readDataset } from '../dataset.js';
import { PayloadTooLargeError, UnsupportedMediaTypeError, UserError } from '../errors.js';
import { classify, predictProbabilities, schemaForModel } from '../model.js';
import type { ServedModel } from '../model-watcher.js';
import {
  columnsFromCsv,
  columnsFromMlflow,
  columnsFromRecords,
  predictionSource,
  unlabelledSchema,
  type FeatureColumns,
  type PredictionBody,
} from '../prediction-input.js';
import { resolveInsideFolders } from '../safe-path.js';
import { hasBody, requireBody } from './middleware.js';
import { requireMlflowContentType } from './mlflow.js';
import { RouteTable, type ApiContext } from './routes.js';

const CSV_TYPES = ['text/csv', 'text/plain', 'application/csv'];
const FORM_TYPE = 'application/x-www-form-urlencoded';
const MULTIPART_TYPE = 'multipart/form-data';
const MISSING_TYPE = 'missing Content-Type: send application/json, text/csv or multipart/form-data';

function predict(served: ServedModel, input: FeatureColumns): { probabilities: Float64Array; predictions: Uint8Array } {
  const probabilities = predictProbabilities(served.model, input.columns);
  return { probabilities, predictions: classify(probabilities) };
}

/**
 * A /prediction body is optional (the query may name the file); when there is
 * one, its type must be one we read. A body without a type is read raw and
 * refused unless it is empty (Node's client sends an empty chunked body on a bare POST).
 */
function acceptPredictionBody(req: Request, _res: Response, next: NextFunction): void {
  const type = req.headers['content-type'];
  if (!hasBody(req) || !type) return next();
  const readable = ['application/json', ...CSV_TYPES, FORM_TYPE, MULTIPART_TYPE];
  if (!req.is(readable))
    next(
      new UnsupportedMediaTypeError(
        `unsupported Content-Type "${type.slice(0, 80)}": send application/json, text/csv or multipart/form-data`,
      ),
    );
  else next();
}

/**
 * Reads a multipart upload into memory with multer (one file, any field name,
 * at most the body limit), turning multer's errors into our 400/413.
 */
function multipartBody(limit: string | number): RequestHandler {
  const limitBytes = typeof limit === 'number' ? limit : (bytes.parse(limit) ?? 5 * 1024 * 1024);
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: limitBytes, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 40 },
  }).any();
  return (req, res, next) => {
    if (!req.is(MULTIPART_TYPE)) return next();
    // A declared length over the limit is refused before reading; a chunked body is bounded by the file limit.
    if (Number(req.headers['content-length'] ?? 0) > limitBytes)
      return next(new PayloadTooLargeError(`request body is larger than the limit (${limit})`));
    upload(req, res, (error: unknown) => {
      if (error instanceof multer.MulterError) {
        if (error.code === 'LIMIT_FILE_SIZE') return next(new PayloadTooLargeError(`request body is larger than the limit (${limit})`));
        if (error.code === 'LIMIT_FILE_COUNT') return next(new UserError('the multipart body has more than one file: upload one CSV file'));
        return next(new UserError(`invalid multipart body: ${error.message}`));
      }
      if (error) return next(new UserError(`invalid multipart body: ${(error as Error).message ?? 'cannot be read'}`, { cause: error }));
      next();
    });
  };
}

/** The parsed body of a /prediction request, by the parser that read it. */
function predictionBody(req: Request): PredictionBody {
  if (!hasBody(req)) return { type: 'none' };
  const body: unknown = req.body;
  if (Buffer.isBuffer(body)) {
    if (body.length === 0) return { type: 'none' };
    throw new UnsupportedMediaTypeError(MISSING_TYPE);
  }
  if (req.is(MULTIPART_TYPE) && Array.isArray(req.files)) {
    const files = req.files.map((file) => ({ name: file.originalname, text: file.buffer.toString('utf8') }));
    return { type: 'multipart', fields: { ...(body as Record<string, unknown>) }, files };
  }
  if (typeof body === 'string') return { type: 'csv', text: body };
  if (req.is(FORM_TYPE)) return { type: 'form', fields: { ...(body as Record<string, unknown>) } };
  return { type: 'json', value: body };
}

/** The prediction routes; `predictedRows` counts the rows each endpoint predicted. */
export function predictionRoutes(context: ApiContext, predictedRows: Counter<'endpoint'>): RouteTable {
  const { config, watcher } = context;
  const limit = config.api.body_limit;
  const jsonBody = express.json({ limit, strict: true });
  const csvBody = express.text({ type: CSV_TYPES, limit });
  const formBody = express.urlencoded({ extended: false, limit, parameterLimit: 20 });
  const untypedBody = express.raw({ type: (req) => !req.headers['content-type'], limit });
  const dataFolders = [config.input_folder_path, config.output_folder_path, config.test_data_path];

  /** The columns a /prediction request asks for. */
  const predictionInput = (req: Request, served: ServedModel): FeatureColumns => {
    // A target column in the input is ignored, not validated: callers predict for clients whose outcome is unknown.
    const schema = unlabelledSchema(schemaForModel(config.schema, served.model));
    const source = predictionSource(req.query, predictionBody(req));
    if (source.kind === 'csv') return columnsFromCsv(source.text, schema, source.label);
    if (source.kind === 'records') return columnsFromRecords(source.records, served.model.features);
    const file = resolveInsideFolders(source.location, config.baseFolder, dataFolders, source.field);
    const data = readDataset(file, schema, { label: String(source.location), requireTarget: false });
    if (data.rows === 0) throw new UserError(`${source.field} ${JSON.stringify(source.location)} has no data rows`);
    return { columns: data.columns, rows: data.rows };
  };

  const prediction = (req: Request, res: Response): void => {
    const served = watcher.require();
    const input = predictionInput(req, served);
    const { probabilities, predictions } = predict(served, input);
    predictedRows.inc({ endpoint: 'prediction' }, input.rows);
    res.json({ predictions: Array.from(predictions), probabilities: Array.from(probabilities), model_version: served.version });
  };
  const predictionChain = [acceptPredictionBody, jsonBody, csvBody, formBody, untypedBody, multipartBody(limit), prediction];

  return new RouteTable()
    .get('/prediction', ...predictionChain)
    .post('/prediction', ...predictionChain)
    .post(
      '/invocations',
      requireMlflowContentType,
      requireBody('send {"dataframe_split": ...}, {"dataframe_records": [...]}, {"instances": [...]}, {"inputs": ...} or CSV'),
      express.json({ limit, strict: true }),
      express.text({ type: 'text/csv', limit }),
      (req: Request, res: Response) => {
        const served = watcher.require();
        const input =
          typeof req.body === 'string'
            ? columnsFromCsv(req.body, schemaForModel(config.schema, served.model))
            : columnsFromMlflow(req.body, served.model.features);
        const { predictions } = predict(served, input);
        predictedRows.inc({ endpoint: 'invocations' }, input.rows);
        res.json({ predictions: Array.from(predictions) });
      },
    );
}
