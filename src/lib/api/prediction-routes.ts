/**
 * /prediction (the original's ways in: records, CSV, a data file named by any
 * of its clients' keys in the body or the query, on GET or POST, or one CSV
 * upload) and POST /invocations (MLflow's scoring formats and errors).
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import bytes from 'bytes';
import multer from 'multer';
import type { Counter } from 'prom-client';
import { decodeUtf8 } from '../data/csv.js';
import { PayloadTooLargeError, UnsupportedMediaTypeError, UserError } from '../errors.js';
import { classify, countUnseenLevels, inputNames, predictProbabilities, schemaForModel } from '../model/model-file.js';
import type { ServedModel } from './model-watcher.js';
import {
  columnsFromCsv,
  columnsFromMlflow,
  columnsFromRecords,
  predictionSource,
  unlabelledSchema,
  type FeatureColumns,
  type PredictionBody,
} from './prediction-input.js';
import { resolveInsideFolders } from './safe-path.js';
import { hasBody, requireBody } from './middleware.js';
import { requireMlflowContentType } from './mlflow.js';
import type { JobRunner } from './report-worker.js';
import { RouteTable, type ApiContext } from './routes.js';

const CSV_TYPES = ['text/csv', 'text/plain', 'application/csv'];
const FORM_TYPE = 'application/x-www-form-urlencoded';
const MULTIPART_TYPE = 'multipart/form-data';
const MISSING_TYPE = 'missing Content-Type: send application/json, text/csv or multipart/form-data';

/** Probabilities of the served model for `input`, and its cells of levels unseen in training (counted into `unseenLevels`). */
export function predictInput(
  served: ServedModel,
  input: FeatureColumns,
  unseenLevels: Counter<'feature'>,
): { probabilities: Float64Array; unseen: Record<string, number> | undefined } {
  const probabilities = predictProbabilities(served.model, input.columns, input.categories);
  if (served.model.categorical.length === 0) return { probabilities, unseen: undefined };
  const counts = countUnseenLevels(served.model, input.categories, input.rows);
  const unseen = Object.fromEntries(Object.entries(counts).filter(([, count]) => count > 0));
  for (const [feature, count] of Object.entries(unseen)) unseenLevels.inc({ feature }, count);
  return { probabilities, unseen: Object.keys(unseen).length > 0 ? unseen : undefined };
}

/**
 * The text of a CSV body, read as bytes and decoded strictly: bytes that are
 * not UTF-8 are a 400 naming the line, never replaced; another declared charset is a 415.
 */
function csvBodyText(req: Request, body: Buffer, label: string): string {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1].toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new UnsupportedMediaTypeError(`charset "${charset}" is not read: send the CSV as UTF-8`);
  }
  return decodeUtf8(body, label);
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
    if (req.headers['content-type'] && req.is(CSV_TYPES)) return { type: 'csv', text: csvBodyText(req, body, 'request body') };
    if (body.length === 0) return { type: 'none' };
    throw new UnsupportedMediaTypeError(MISSING_TYPE);
  }
  if (req.is(MULTIPART_TYPE) && Array.isArray(req.files)) {
    const files = req.files.map((file) => ({ name: file.originalname, text: decodeUtf8(file.buffer, uploadLabel(file.originalname)) }));
    return { type: 'multipart', fields: { ...(body as Record<string, unknown>) }, files };
  }
  if (req.is(FORM_TYPE)) return { type: 'form', fields: { ...(body as Record<string, unknown>) } };
  return { type: 'json', value: body };
}

/** An uploaded file's own name, as a label only (its base name; nothing is read under it). */
function uploadLabel(name: string): string {
  return `uploaded file "${name.split(/[\\/]/).pop() ?? ''}"`;
}

/**
 * The prediction routes; `predictedRows` counts the rows each endpoint
 * predicted; a data file named by the caller is read on the report worker
 * (`jobs`), never on the event loop.
 */
export function predictionRoutes(
  context: ApiContext,
  metrics: { predictedRows: Counter<'endpoint'>; unseenLevels: Counter<'feature'> },
  jobs: JobRunner,
): RouteTable {
  const { config, watcher } = context;
  const { predictedRows, unseenLevels } = metrics;
  const limit = config.api.body_limit;
  const jsonBody = express.json({ limit, strict: true });
  const csvBody = express.raw({ type: CSV_TYPES, limit });
  const formBody = express.urlencoded({ extended: false, limit, parameterLimit: 20 });
  const untypedBody = express.raw({ type: (req) => !req.headers['content-type'], limit });
  const dataFolders = [config.input_folder_path, config.output_folder_path, config.test_data_path];

  /** The probabilities for what a /prediction request asks for. */
  const predictionFor = async (
    req: Request,
    served: ServedModel,
  ): Promise<{ probabilities: Float64Array; rows: number; unseen?: Record<string, number> }> => {
    // A target column in the input is ignored, not validated: callers predict for clients whose outcome is unknown.
    const schema = unlabelledSchema(schemaForModel(config.schema, served.model));
    const source = predictionSource(req.query, predictionBody(req));
    let input: FeatureColumns;
    if (source.kind === 'csv') input = columnsFromCsv(source.text, schema, source.label);
    else if (source.kind === 'records') input = columnsFromRecords(source.records, inputNames(served.model));
    else {
      const file = resolveInsideFolders(source.location, config.baseFolder, dataFolders, source.field);
      const label = String(source.location);
      const { probabilities, unseen } = await jobs.run('predictFile', { file, label, model: served.model, schema });
      if (probabilities.length === 0) throw new UserError(`${source.field} ${JSON.stringify(source.location)} has no data rows`);
      for (const [feature, count] of Object.entries(unseen)) if (count > 0) unseenLevels.inc({ feature }, count);
      const some = Object.entries(unseen).filter(([, count]) => count > 0);
      return { probabilities, rows: probabilities.length, unseen: some.length > 0 ? Object.fromEntries(some) : undefined };
    }
    return { ...predictInput(served, input, unseenLevels), rows: input.rows };
  };

  const prediction = async (req: Request, res: Response): Promise<void> => {
    const served = watcher.require();
    const { probabilities, rows, unseen } = await predictionFor(req, served);
    predictedRows.inc({ endpoint: 'prediction' }, rows);
    res.json({
      predictions: Array.from(classify(probabilities)),
      probabilities: Array.from(probabilities),
      model_version: served.version,
      ...(unseen ? { unseen_levels: unseen } : {}),
    });
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
      express.raw({ type: 'text/csv', limit }),
      (req: Request, res: Response) => {
        const served = watcher.require();
        const input = Buffer.isBuffer(req.body)
          ? columnsFromCsv(csvBodyText(req, req.body, 'request body'), schemaForModel(config.schema, served.model))
          : columnsFromMlflow(req.body, inputNames(served.model));
        // MLflow's answer has no room for a note: unseen levels are counted in the metric only.
        const { probabilities } = predictInput(served, input, unseenLevels);
        predictedRows.inc({ endpoint: 'invocations' }, input.rows);
        res.json({ predictions: Array.from(classify(probabilities)) });
      },
    );
}
