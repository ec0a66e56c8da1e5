/**
 * The data schema applied to CSV records: header checks, feature and target
 * parsing, and reading a labelled data file into typed columns.
 */
import fs from 'node:fs';
import { DataError } from '../errors.js';
import { parseCsvText, readCsvFile, type FileDigest } from './csv.js';
import type { DataSchema } from '../config.js';
import { CategoryBuilder, type CategoryColumn } from './levels.js';

/** Where the schema's columns sit in a file's header. */
export interface ColumnLayout {
  columns: string[];
  featureIndexes: number[];
  /** Where each of `schema.categorical_features` sits. */
  categoricalIndexes: number[];
  /** The target's two values as written, when the schema has labels. */
  targetLabels?: readonly [string, string];
  /** -1 when the file has no target column (allowed only for unlabelled input). */
  targetIndex: number;
  /** -1 when the file has no id column. */
  idIndex: number;
}

/**
 * Checks a header against the schema: every feature (and the target when
 * `requireTarget`) present, no duplicate or empty column names.
 */
export function resolveHeader(columns: string[], schema: DataSchema, file: string, requireTarget = true): ColumnLayout {
  const seen = new Set<string>();
  columns.forEach((name, index) => {
    if (name.trim() === '') throw new DataError({ file, line: 1 }, `column ${index + 1} of the header has no name`);
    if (seen.has(name)) throw new DataError({ file, line: 1, column: name }, 'duplicate column name in the header');
    seen.add(name);
  });
  const features = [...schema.features, ...schema.categorical_features];
  const required = requireTarget ? [...features, schema.target] : features;
  const missing = required.filter((name) => !seen.has(name));
  if (missing.length > 0) {
    throw new DataError(
      { file, line: 1, column: missing[0] },
      `missing required column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} (header: ${columns.join(',')})`,
    );
  }
  return {
    columns,
    featureIndexes: schema.features.map((name) => columns.indexOf(name)),
    categoricalIndexes: schema.categorical_features.map((name) => columns.indexOf(name)),
    ...(schema.target_labels ? { targetLabels: schema.target_labels } : {}),
    targetIndex: columns.indexOf(schema.target),
    idIndex: columns.indexOf(schema.id_column),
  };
}

const COMMA_CODE = 44;
/** A decimal number as a feature cell spells it (blanks around it are trimmed first). */
export const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const EDGE_BLANKS = /^[ \t\v\f]+|[ \t\v\f]+$/g;

/**
 * Parses a feature cell: a finite decimal number, or NaN for an empty cell (a
 * missing value). Returns undefined for anything else (`twelve`, `Infinity`, `NaN`, `0x10`).
 */
export function parseFeatureValue(text: string): number | undefined {
  // Common case first: plain digits.
  const length = text.length;
  let digitsOnly = length > 0 && length < 16;
  for (let i = 0; digitsOnly && i < length; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) digitsOnly = false;
  }
  if (digitsOnly) return +text;
  // ASCII blanks around a number are allowed, as pandas allows them; other white space (a no-break space) is not.
  const trimmed = text.replace(EDGE_BLANKS, '');
  if (trimmed === '') return NaN;
  if (!DECIMAL.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Parses a target cell: with `labels` ([negative, positive]) exactly one of them, as written;
 * otherwise 0 or 1 (also written 0.0 / 1.0). Undefined for anything else, empty included.
 */
export function parseTargetValue(text: string, labels?: readonly [string, string]): 0 | 1 | undefined {
  if (labels) return text === labels[1] ? 1 : text === labels[0] ? 0 : undefined;
  if (text === '0') return 0;
  if (text === '1') return 1;
  const value = parseFeatureValue(text);
  if (value === 0 || value === 1) return value;
  return undefined;
}

/** Throws the DataError for a feature cell that is not a number. */
export function invalidFeature(file: string, line: number, column: string, text: string): DataError {
  return new DataError({ file, line, column }, `"${truncate(text)}" is not a finite number (leave the cell empty for a missing value)`);
}

/** Throws the DataError for a target cell that is not 0/1 (or not one of the schema's labels). */
export function invalidTarget(file: string, line: number, column: string, text: string, labels?: readonly [string, string]): DataError {
  const wanted = labels
    ? `${JSON.stringify(labels[0])} or ${JSON.stringify(labels[1])} (schema.target_labels, compared exactly)`
    : '0 or 1';
  return new DataError({ file, line, column }, `target must be ${wanted}, found ${text === '' ? 'an empty cell' : `"${truncate(text)}"`}`);
}

/** The error for a record whose field count differs from the header's. */
export function raggedRow(file: string, line: number, expected: number, found: number): DataError {
  return new DataError({ file, line }, `expected ${expected} fields as in the header, found ${found}`);
}

function truncate(text: string): string {
  return text.length > 40 ? text.slice(0, 37) + '...' : text;
}

/** Role of a field in a plain-record scan: a feature slot (>= 0), or one of these. */
const OTHER = -1;
const TARGET = -2;
const ID = -3;
/** Categorical slot k has the role CATEGORY - k. */
const CATEGORY = -4;

/**
 * The fast path shared by ingestion and dataset reading, for a plain record (one
 * line, no quote): every feature empty or plain canonical digits (no sign, no
 * leading zero, at most 15 digits), the target `0` or `1`. Such a record's
 * values are read straight from its characters, and its raw text is already in
 * the canonical form that duplicate detection compares. A categorical cell is
 * any text (a plain line holds no quote), taken as written; with target labels
 * the target must be one of them, byte for byte. Anything else makes
 * `scan` return false and takes the general, validating path.
 */
export class PlainRecordScanner {
  /** Feature values of the last scanned record, by feature slot (NaN for an empty cell). */
  readonly values: Float64Array;
  /** Target of the last scanned record (0 when the file has no target column). */
  label = 0;
  /** Where the id field of the last scanned record starts and ends in its raw text (-1 without an id column). */
  idStart = -1;
  idEnd = -1;
  /** Where each categorical field of the last scanned record starts and ends in its raw text. */
  readonly categoryStarts: Int32Array;
  readonly categoryEnds: Int32Array;
  private readonly roles: Int32Array;
  private readonly labels?: [Buffer, Buffer];

  constructor(layout: ColumnLayout) {
    this.values = new Float64Array(layout.featureIndexes.length);
    this.categoryStarts = new Int32Array(layout.categoricalIndexes.length);
    this.categoryEnds = new Int32Array(layout.categoricalIndexes.length);
    this.roles = new Int32Array(layout.columns.length).fill(OTHER);
    layout.featureIndexes.forEach((index, slot) => (this.roles[index] = slot));
    layout.categoricalIndexes.forEach((index, slot) => (this.roles[index] = CATEGORY - slot));
    if (layout.targetLabels) this.labels = [Buffer.from(layout.targetLabels[0]), Buffer.from(layout.targetLabels[1])];
    if (layout.targetIndex >= 0) this.roles[layout.targetIndex] = TARGET;
    if (layout.idIndex >= 0) this.roles[layout.idIndex] = ID;
  }

  /** Scans one plain line, `bytes[start..end)`; true when it is plain and every value was read. */
  scan(bytes: Uint8Array, start: number, end: number): boolean {
    const roles = this.roles;
    const count = roles.length;
    let field = 0;
    let from = start;
    this.label = 0;
    for (let pos = start; pos <= end; pos++) {
      if (pos < end && bytes[pos] !== COMMA_CODE) continue;
      if (field >= count) return false;
      const role = roles[field];
      const width = pos - from;
      if (role >= 0) {
        if (width === 0) {
          this.values[role] = NaN;
        } else {
          if (width > 15 || (width > 1 && bytes[from] === 48)) return false;
          let value = 0;
          for (let k = from; k < pos; k++) {
            const digit = bytes[k] - 48;
            if (digit < 0 || digit > 9) return false;
            value = value * 10 + digit;
          }
          this.values[role] = value;
        }
      } else if (role <= CATEGORY) {
        this.categoryStarts[CATEGORY - role] = from;
        this.categoryEnds[CATEGORY - role] = pos;
      } else if (role === TARGET && this.labels) {
        const label = matchLabel(bytes, from, pos, this.labels);
        if (label === -1) return false;
        this.label = label;
      } else if (role === TARGET) {
        if (width !== 1) return false;
        const code = bytes[from];
        if (code !== 48 && code !== 49) return false;
        this.label = code - 48;
      } else if (role === ID) {
        this.idStart = from;
        this.idEnd = pos;
      }
      field++;
      from = pos + 1;
    }
    return field === count;
  }
}

/** 1 when `bytes[from..to)` is the positive label, 0 for the negative one, -1 for neither. */
function matchLabel(bytes: Uint8Array, from: number, to: number, labels: [Buffer, Buffer]): number {
  for (let label = 0; label < 2; label++) {
    const wanted = labels[label];
    if (wanted.length !== to - from) continue;
    let same = true;
    for (let k = 0; k < wanted.length && same; k++) same = wanted[k] === bytes[from + k];
    if (same) return label;
  }
  return -1;
}

/** A data file read into typed columns. */
export interface Dataset {
  features: string[];
  /** One Float64Array per feature; NaN marks a missing cell. */
  columns: Float64Array[];
  /** One column per categorical feature (`schema.categorical_features`, in that order). */
  categories: CategoryColumn[];
  /** 0/1 labels; undefined for unlabelled data. */
  target?: Uint8Array;
  /** Id column values ('' where absent). */
  ids: string[];
  rows: number;
  /** Missing cells per (numeric) feature. */
  missing: number[];
}

/** Records read before the builder sizes its columns for the whole file. */
const SIZING_RECORDS = 1000;

/**
 * Collects records into typed columns. Given the file's size, it sizes the
 * columns for the whole file once the first records show their average length
 * (with 10 % to spare, which stays virtual memory unless used), so millions of
 * rows are not copied by repeated doubling; past the estimate it grows by a quarter.
 */
class DatasetBuilder {
  private capacity = SIZING_RECORDS;
  private columns: Float64Array[];
  private target: Uint8Array;
  private readonly categories: CategoryBuilder[];
  readonly ids: string[] = [];
  readonly missing: number[];
  rows = 0;
  layout?: ColumnLayout;
  private scanner?: PlainRecordScanner;
  /** Characters of the records so far (header included), line breaks counted as one. */
  private charactersSeen = 0;

  constructor(
    private readonly schema: DataSchema,
    private readonly label: string,
    private readonly requireTarget: boolean,
    private readonly keepIds: boolean,
    /** Size of the whole input in bytes, when known. */
    private readonly expectedBytes?: number,
  ) {
    this.columns = schema.features.map(() => new Float64Array(this.capacity));
    this.target = new Uint8Array(this.capacity);
    this.categories = schema.categorical_features.map((feature) => new CategoryBuilder(feature, this.capacity));
    this.missing = schema.features.map(() => 0);
  }

  readonly onRecord = (fields: string[] | null, line: number, raw: string): void => {
    this.charactersSeen += raw.length + 1;
    if (!this.layout) {
      this.layout = resolveHeader(fields ?? raw.split(','), this.schema, this.label, this.requireTarget);
      this.scanner = new PlainRecordScanner(this.layout);
      return;
    }
    if (this.rows === this.capacity) this.grow();
    this.addFields(fields ?? raw.split(','), line);
  };

  /** The fast path: a plain line read from its bytes; false (nothing taken) for the header or a line the scanner declines. */
  readonly onPlainLine = (bytes: Buffer, start: number, end: number): boolean => {
    if (!this.scanner || !this.scanner.scan(bytes, start, end)) return false;
    this.charactersSeen += end - start + 1;
    if (this.rows === this.capacity) this.grow();
    this.addScanned(bytes);
    return true;
  };

  /** Commits the record the scanner just read. */
  private addScanned(bytes: Buffer): void {
    const scanner = this.scanner!;
    const row = this.rows;
    for (let f = 0; f < this.columns.length; f++) {
      const value = scanner.values[f];
      if (value !== value) this.missing[f]++;
      this.columns[f][row] = value;
    }
    for (let c = 0; c < this.categories.length; c++) this.categories[c].addBytes(bytes, scanner.categoryStarts[c], scanner.categoryEnds[c]);
    if (this.layout!.targetIndex >= 0) this.target[row] = scanner.label;
    if (this.keepIds) this.ids.push(this.layout!.idIndex >= 0 ? bytes.toString('utf8', scanner.idStart, scanner.idEnd) : '');
    this.rows++;
  }

  /** General path: validates every cell and names the first bad one. */
  private addFields(fields: string[], line: number): void {
    const { columns, featureIndexes, categoricalIndexes, targetIndex, targetLabels, idIndex } = this.layout!;
    if (fields.length !== columns.length) throw raggedRow(this.label, line, columns.length, fields.length);
    const row = this.rows;
    for (let f = 0; f < featureIndexes.length; f++) {
      const text = fields[featureIndexes[f]];
      const value = parseFeatureValue(text);
      if (value === undefined) throw invalidFeature(this.label, line, columns[featureIndexes[f]], text);
      if (value !== value) this.missing[f]++;
      this.columns[f][row] = value;
    }
    if (targetIndex >= 0) {
      const label = parseTargetValue(fields[targetIndex], targetLabels);
      if (label === undefined) throw invalidTarget(this.label, line, columns[targetIndex], fields[targetIndex], targetLabels);
      this.target[row] = label;
    }
    for (let c = 0; c < categoricalIndexes.length; c++) this.categories[c].add(fields[categoricalIndexes[c]]);
    if (this.keepIds) this.ids.push(idIndex >= 0 ? fields[idIndex] : '');
    this.rows++;
  }

  private grow(): void {
    if (this.expectedBytes !== undefined && this.rows === SIZING_RECORDS) {
      const estimate = Math.ceil((1.1 * this.expectedBytes * (this.rows + 1)) / this.charactersSeen);
      if (estimate > this.capacity) return this.resize(estimate);
    }
    this.resize(Math.ceil(this.capacity * (this.expectedBytes === undefined ? 2 : 1.25)));
  }

  private resize(capacity: number): void {
    this.capacity = capacity;
    this.columns = this.columns.map((column) => {
      const bigger = new Float64Array(this.capacity);
      bigger.set(column);
      return bigger;
    });
    const target = new Uint8Array(this.capacity);
    target.set(this.target);
    this.target = target;
    for (const category of this.categories) category.reserve(capacity);
  }

  finish(): Dataset {
    if (!this.layout) throw new DataError({ file: this.label }, 'the file is empty (no header row)');
    const labelled = this.layout.targetIndex >= 0;
    return {
      features: [...this.schema.features],
      columns: this.columns.map((column) => column.subarray(0, this.rows)),
      categories: this.categories.map((category) => category.finish()),
      target: labelled ? this.target.subarray(0, this.rows) : undefined,
      ids: this.ids,
      rows: this.rows,
      missing: this.missing,
    };
  }
}

/** Options for reading a data file. */
export interface ReadDatasetOptions {
  /** Name used in error messages (defaults to the path). */
  label?: string;
  /** Require the target column (default true). */
  requireTarget?: boolean;
  /** Keep the id column's values (default true; training skips them to save memory). */
  ids?: boolean;
}

/** Reads a CSV data file into typed columns, validating every cell. */
export function readDataset(file: string, schema: DataSchema, options: ReadDatasetOptions = {}): Dataset & { digest: FileDigest } {
  const size = fs.statSync(file, { throwIfNoEntry: false })?.size;
  const builder = new DatasetBuilder(schema, options.label ?? file, options.requireTarget ?? true, options.ids ?? true, size);
  const digest = readCsvFile(file, options.label ?? file, builder.onRecord, { lazy: true, onPlainLine: builder.onPlainLine });
  return { ...builder.finish(), digest };
}

/** Parses CSV text (e.g. a request body) into typed columns; the target is optional. */
export function parseDataset(text: string, schema: DataSchema, label: string, requireTarget = false): Dataset {
  const builder = new DatasetBuilder(schema, label, requireTarget, true);
  parseCsvText(text, label, builder.onRecord, true);
  return builder.finish();
}
