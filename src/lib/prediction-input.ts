/**
 * Turns request bodies into feature columns: the original `{"records": [...]}`
 * and CSV, and MLflow's scoring formats (`dataframe_split`,
 * `dataframe_records`, `instances`, `inputs`). Pure: takes parsed bodies,
 * returns columns or throws a UserError naming the bad field.
 */
import { UserError } from './errors.js';
import { parseDataset, parseFeatureValue } from './dataset.js';
import type { DataSchema } from './config.js';

/** Feature columns ready for `predictProbabilities` (NaN = missing, imputed by the model). */
export interface FeatureColumns {
  columns: Float64Array[];
  rows: number;
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

function emptyColumns(features: readonly string[], rows: number): Float64Array[] {
  return features.map(() => new Float64Array(rows));
}

/** Columns from a list of objects keyed by feature name; every feature must be present. */
export function columnsFromRecords(records: unknown, features: readonly string[], field = 'records'): FeatureColumns {
  if (!Array.isArray(records)) throw new UserError(`"${field}" must be a list of objects`);
  if (records.length === 0) throw new UserError(`"${field}" is empty: send at least one record`);
  const columns = emptyColumns(features, records.length);
  records.forEach((record: unknown, row) => {
    if (typeof record !== 'object' || record === null || Array.isArray(record))
      throw new UserError(`${field}[${row}] must be an object of feature values`);
    features.forEach((feature, f) => {
      if (!Object.hasOwn(record, feature)) throw new UserError(`${field}[${row}] is missing feature "${feature}"`);
      columns[f][row] = featureValue((record as Record<string, unknown>)[feature], `${field}[${row}].${feature}`);
    });
  });
  return { columns, rows: records.length };
}

/** Columns from rows given as lists, with `columnNames` naming each position. */
function columnsFromRows(rows: unknown, columnNames: readonly string[], features: readonly string[], field: string): FeatureColumns {
  if (!Array.isArray(rows)) throw new UserError(`"${field}" must be a list of rows`);
  if (rows.length === 0) throw new UserError(`"${field}" is empty: send at least one row`);
  const positions = features.map((feature) => {
    const index = columnNames.indexOf(feature);
    if (index === -1) throw new UserError(`"${field}" has no column "${feature}" (columns: ${columnNames.join(', ')})`);
    return index;
  });
  const columns = emptyColumns(features, rows.length);
  rows.forEach((row, r) => {
    if (!Array.isArray(row)) throw new UserError(`${field}[${r}] must be a list of values`);
    if (row.length !== columnNames.length) throw new UserError(`${field}[${r}] has ${row.length} values for ${columnNames.length} columns`);
    positions.forEach((index, f) => (columns[f][r] = featureValue(row[index], `${field}[${r}].${features[f]}`)));
  });
  return { columns, rows: rows.length };
}

/** Columns from an object of column lists: `{"feature": [values...]}`. */
function columnsFromColumnMap(map: Record<string, unknown>, features: readonly string[], field: string): FeatureColumns {
  let rows = -1;
  const columns = features.map((feature) => {
    const values = map[feature];
    if (!Array.isArray(values)) throw new UserError(`"${field}" has no list for feature "${feature}"`);
    if (rows === -1) rows = values.length;
    if (values.length !== rows) throw new UserError(`"${field}": column "${feature}" has ${values.length} values, expected ${rows}`);
    return Float64Array.from(values, (value, r) => featureValue(value, `${field}.${feature}[${r}]`));
  });
  if (rows <= 0) throw new UserError(`"${field}" is empty: send at least one row`);
  return { columns, rows };
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
  if (text.trim() === '') throw new UserError('the CSV body is empty');
  const data = parseDataset(text, unlabelledSchema(schema), label, false);
  if (data.rows === 0) throw new UserError('the CSV body has a header but no rows');
  return { columns: data.columns, rows: data.rows };
}

/** MLflow scoring-server JSON formats. */
export function columnsFromMlflow(body: unknown, features: readonly string[]): FeatureColumns {
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
    if (typeof value !== 'object' || value === null) throw new UserError('"dataframe_split" must be an object with "columns" and "data"');
    const { columns, data } = value as { columns?: unknown; data?: unknown };
    if (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string'))
      throw new UserError('"dataframe_split.columns" must be a list of column names');
    return columnsFromRows(data, columns, features, 'dataframe_split.data');
  }
  // instances / inputs: records, rows in feature order, or a map of columns.
  if (Array.isArray(value)) {
    if (value.length > 0 && Array.isArray(value[0])) return columnsFromRows(value, features, features, key);
    return columnsFromRecords(value, features, key);
  }
  if (typeof value === 'object' && value !== null) return columnsFromColumnMap(value as Record<string, unknown>, features, key);
  throw new UserError(`"${key}" must be a list of records, a list of rows or an object of columns`);
}
