/**
 * Turns requests into feature columns: which source a /prediction request
 * names (a data file under one of the original's names, records, CSV, an
 * upload), the original `{"records": [...]}` and CSV, and MLflow's scoring
 * formats (`dataframe_split`, `dataframe_records`, `instances`, `inputs`).
 * Pure: takes parsed requests, returns sources or columns, or throws a
 * UserError naming the bad field.
 */
import { UserError } from '../errors.js';
import { parseDataset, parseFeatureValue } from '../data/dataset.js';
import type { DataSchema } from '../config.js';
import { CategoryBuilder, type CategoryColumn } from '../data/levels.js';

/** Feature columns ready for `predictProbabilities` (NaN = missing, imputed by the model). */
export interface FeatureColumns {
  columns: Float64Array[];
  /** One column per categorical feature. */
  categories: CategoryColumn[];
  rows: number;
}

/** The columns a model reads: numeric features and categorical ones. */
export interface InputNames {
  features: readonly string[];
  categorical: readonly string[];
}

/**
 * One categorical cell of a JSON body: a string as given; a finite number or a
 * boolean as its JavaScript text (5 and 5.0 are both "5", since JSON cannot tell
 * them apart: send "5.0" as a string); null or a missing key is the empty level.
 */
function levelText(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new UserError(`${where}: ${value} is not a level (send the level as a string)`);
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  throw new UserError(`${where}: expected a level as a string, got ${Array.isArray(value) ? 'an array' : typeof value}`);
}

/** Builds the categorical columns of `rows` rows, cell by cell. */
function categoryBuilders(names: InputNames, rows: number): CategoryBuilder[] {
  return names.categorical.map((feature) => new CategoryBuilder(feature, rows));
}

/**
 * One cell of a JSON body: a finite number, a numeric string, or null / ""
 * for a missing value (imputed). Anything else is an error naming `where`.
 */
function featureValue(value: unknown, where: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new UserError(`${where}: ${value} is not a finite number`);
    return value;
  }
  if (value === null) return NaN;
  if (typeof value === 'string') {
    const parsed = parseFeatureValue(value);
    if (parsed === undefined) throw new UserError(`${where}: "${value.slice(0, 40)}" is not a finite number`);
    return parsed;
  }
  throw new UserError(`${where}: expected a number, got ${Array.isArray(value) ? 'an array' : typeof value}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The names under which the original project's clients give the data file:
 * as a JSON key, a form field or a query parameter.
 */
export const FILE_LOCATION_KEYS = ['file_location', 'filelocation', 'filename', 'file_name', 'filepath', 'file_path', 'datapath'] as const;

/** A /prediction body as parsed, by content type. */
export type PredictionBody =
  | { type: 'none' }
  | { type: 'json'; value: unknown }
  | { type: 'csv'; text: string }
  /** URL-encoded form fields (what Python's `requests.post(url, data={...})` sends). */
  | { type: 'form'; fields: Record<string, unknown> }
  /** A multipart form: its text fields and its uploaded files (name as the client gave it, content as text). */
  | { type: 'multipart'; fields: Record<string, unknown>; files: { name: string; text: string }[] };

/** Where the rows of a /prediction request come from. */
export type PredictionSource =
  /** A data file on the server; `field` says where it was named, for messages (`query parameter "filename"`). */
  { kind: 'file'; location: unknown; field: string } | { kind: 'records'; records: unknown } | { kind: 'csv'; text: string; label: string };

/** The data files named in `fields` under any of FILE_LOCATION_KEYS. */
function namedFiles(fields: Record<string, unknown>, where: string): { location: unknown; field: string }[] {
  return FILE_LOCATION_KEYS.filter((key) => Object.hasOwn(fields, key)).map((key) => {
    const field = `${where}"${key}"`;
    const value = fields[key];
    if (where !== '' && Array.isArray(value)) throw new UserError(`${field} is given ${value.length} times: give it once`);
    return { location: value, field };
  });
}

/** How an uploaded file is named in messages: its base name only, never a path the client made up. */
function uploadLabel(name: string): string {
  // eslint-disable-next-line no-control-regex
  const base = (name.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f"]/g, '').slice(0, 80);
  return base === '' ? 'uploaded file' : `uploaded file "${base}"`;
}

/**
 * The one source a /prediction request names: a data file (by any of
 * FILE_LOCATION_KEYS, in the query or the body), `{"records"}`, CSV, or one
 * uploaded CSV file. Naming a file twice, or naming a file and also sending
 * rows, is a UserError; so is a request that names nothing.
 */
export function predictionSource(query: Record<string, unknown>, body: PredictionBody): PredictionSource {
  const fields =
    body.type === 'json' ? (isObject(body.value) ? body.value : {}) : body.type === 'form' || body.type === 'multipart' ? body.fields : {};
  const named = [...namedFiles(query, 'query parameter '), ...namedFiles(fields, body.type === 'json' ? '' : 'form field ')];
  if (named.length > 1) throw new UserError(`name the data file once: got ${named.map((n) => n.field).join(' and ')}`);
  const rows: PredictionSource[] = [];
  if (body.type === 'csv') rows.push({ kind: 'csv', text: body.text, label: 'request body' });
  if (body.type === 'json' && isObject(body.value) && 'records' in body.value) rows.push({ kind: 'records', records: body.value.records });
  if (body.type === 'multipart') {
    if (body.files.length > 1) throw new UserError(`the multipart body has ${body.files.length} files: upload one CSV file`);
    rows.push(...body.files.map((file): PredictionSource => ({ kind: 'csv', text: file.text, label: uploadLabel(file.name) })));
  }
  if (named.length === 1) {
    if (rows.length > 0)
      throw new UserError(`${named[0].field} names a data file: send either a file name or rows (records, CSV, an upload), not both`);
    return { kind: 'file', ...named[0] };
  }
  if (rows.length === 1) return rows[0];
  if (body.type === 'multipart') {
    throw new UserError(
      'the multipart body has no file: upload one CSV file (curl -F data=@file.csv) or name one in a "file_location" field',
    );
  }
  if (body.type === 'none') {
    throw new UserError(
      'the request body is empty and names no data file: send {"records": [...]}, CSV or a CSV upload, or ?file_location=<path>',
    );
  }
  throw new UserError('expected {"records": [...]}, {"file_location": "<path>"} or a text/csv body');
}

function emptyColumns(features: readonly string[], rows: number): Float64Array[] {
  return features.map(() => new Float64Array(rows));
}

/** Columns from a list of objects keyed by feature name; every numeric feature must be present (a missing categorical one is the empty level). */
export function columnsFromRecords(records: unknown, names: InputNames, field = 'records'): FeatureColumns {
  if (!Array.isArray(records)) throw new UserError(`"${field}" must be a list of objects`);
  if (records.length === 0) throw new UserError(`"${field}" is empty: send at least one record`);
  const { features } = names;
  const columns = emptyColumns(features, records.length);
  const categories = categoryBuilders(names, records.length);
  records.forEach((record: unknown, row) => {
    if (typeof record !== 'object' || record === null || Array.isArray(record))
      throw new UserError(`${field}[${row}] must be an object of feature values`);
    features.forEach((feature, f) => {
      if (!Object.hasOwn(record, feature)) throw new UserError(`${field}[${row}] is missing feature "${feature}"`);
      columns[f][row] = featureValue((record as Record<string, unknown>)[feature], `${field}[${row}].${feature}`);
    });
    for (const category of categories) {
      const value = Object.hasOwn(record, category.feature) ? (record as Record<string, unknown>)[category.feature] : null;
      category.add(levelText(value, `${field}[${row}].${category.feature}`));
    }
  });
  return { columns, categories: categories.map((category) => category.finish()), rows: records.length };
}

/** Columns from rows given as lists, with `columnNames` naming each position. */
function columnsFromRows(rows: unknown, columnNames: readonly string[], names: InputNames, field: string): FeatureColumns {
  if (!Array.isArray(rows)) throw new UserError(`"${field}" must be a list of rows`);
  if (rows.length === 0) throw new UserError(`"${field}" is empty: send at least one row`);
  const { features } = names;
  const positions = features.map((feature) => {
    const index = columnNames.indexOf(feature);
    if (index === -1) throw new UserError(`"${field}" has no column "${feature}" (columns: ${columnNames.join(', ')})`);
    return index;
  });
  const levelPositions = names.categorical.map((feature) => columnNames.indexOf(feature));
  const columns = emptyColumns(features, rows.length);
  const categories = categoryBuilders(names, rows.length);
  rows.forEach((row, r) => {
    if (!Array.isArray(row)) throw new UserError(`${field}[${r}] must be a list of values`);
    if (row.length !== columnNames.length) throw new UserError(`${field}[${r}] has ${row.length} values for ${columnNames.length} columns`);
    positions.forEach((index, f) => (columns[f][r] = featureValue(row[index], `${field}[${r}].${features[f]}`)));
    levelPositions.forEach((index, c) =>
      categories[c].add(index === -1 ? '' : levelText(row[index], `${field}[${r}].${names.categorical[c]}`)),
    );
  });
  return { columns, categories: categories.map((category) => category.finish()), rows: rows.length };
}

/** Columns from an object of column lists: `{"feature": [values...]}`. */
function columnsFromColumnMap(map: Record<string, unknown>, names: InputNames, field: string): FeatureColumns {
  let rows = -1;
  const columns = names.features.map((feature) => {
    const values = map[feature];
    if (!Array.isArray(values)) throw new UserError(`"${field}" has no list for feature "${feature}"`);
    if (rows === -1) rows = values.length;
    if (values.length !== rows) throw new UserError(`"${field}": column "${feature}" has ${values.length} values, expected ${rows}`);
    return Float64Array.from(values, (value, r) => featureValue(value, `${field}.${feature}[${r}]`));
  });
  if (rows <= 0) throw new UserError(`"${field}" is empty: send at least one row`);
  const categories = names.categorical.map((feature) => {
    const values = map[feature];
    const builder = new CategoryBuilder(feature, rows);
    if (values !== undefined && !Array.isArray(values)) throw new UserError(`"${field}.${feature}" must be a list of levels`);
    if (values && values.length !== rows)
      throw new UserError(`"${field}": column "${feature}" has ${values.length} values, expected ${rows}`);
    for (let r = 0; r < rows; r++) builder.add(values ? levelText(values[r], `${field}.${feature}[${r}]`) : '');
    return builder.finish();
  });
  return { columns, categories, rows };
}

/**
 * The schema for reading prediction input: the target column, when a file has
 * one, is ignored rather than validated (unknown outcomes are often left empty).
 * An empty name matches no column, since a header with an empty name is refused.
 */
export function unlabelledSchema(schema: DataSchema): DataSchema {
  return { ...schema, target: '' };
}

/** Columns from CSV text with a header row naming the features (a target column is allowed and ignored). */
export function columnsFromCsv(text: string, schema: DataSchema, label = 'request body'): FeatureColumns {
  const what = label === 'request body' ? 'the CSV body' : label;
  if (text.trim() === '') throw new UserError(`${what} is empty`);
  const data = parseDataset(text, unlabelledSchema(schema), label, false);
  if (data.rows === 0) throw new UserError(`${what} has a header but no rows`);
  return { columns: data.columns, categories: data.categories, rows: data.rows };
}

/** MLflow scoring-server JSON formats. */
export function columnsFromMlflow(body: unknown, features: InputNames): FeatureColumns {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new UserError('expected a JSON object with one of "dataframe_split", "dataframe_records", "instances" or "inputs"');
  }
  const keys = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'].filter((key) => key in body);
  if (keys.length !== 1) {
    throw new UserError(
      keys.length === 0
        ? 'expected one of "dataframe_split", "dataframe_records", "instances" or "inputs"'
        : `give only one of ${keys.map((k) => `"${k}"`).join(', ')}`,
    );
  }
  const key = keys[0];
  const value = (body as Record<string, unknown>)[key];
  if (key === 'dataframe_records') return columnsFromRecords(value, features, key);
  if (key === 'dataframe_split') {
    if (!isObject(value)) throw new UserError('"dataframe_split" must be an object with "columns" and "data"');
    const { columns, data, index } = value as { columns?: unknown; data?: unknown; index?: unknown };
    if (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string'))
      throw new UserError('"dataframe_split.columns" must be a list of column names');
    if (index !== undefined && index !== null) {
      if (!Array.isArray(index)) throw new UserError('"dataframe_split.index" must be a list, one entry per row');
      // pandas (hence MLflow) refuses a frame whose index and data differ in length; MLflow's message, pandas 1.5's words.
      if (Array.isArray(data) && index.length !== data.length)
        throw new UserError(
          "Provided dataframe_split field is not a valid dataframe representation in 'split' format. " +
            `Error: 'Length of values (${data.length}) does not match length of index (${index.length})'`,
        );
    }
    return columnsFromRows(data, columns, features, 'dataframe_split.data');
  }
  // instances / inputs: records or a map of columns. Rows as plain lists are refused: they
  // name no columns, and a silent column order would give wrong predictions.
  if (Array.isArray(value)) {
    const row = value.findIndex((item) => Array.isArray(item));
    if (row !== -1) {
      throw new UserError(
        `${key}[${row}] is a list of values without column names: send records ({"feature": value, ...}), an object of columns, or dataframe_split with "columns"`,
      );
    }
    return columnsFromRecords(value, features, key);
  }
  if (isObject(value)) return columnsFromColumnMap(value, features, key);
  throw new UserError(`"${key}" must be a list of records or an object of columns`);
}
