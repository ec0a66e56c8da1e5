/**
 * ingestion: merges every *.csv of the input folder (sorted by name) into
 * `finaldata.csv`, dropping exact duplicate rows (whole row, first kept, as
 * pandas `drop_duplicates()`), and records what it read in `ingestedfiles.txt`
 * and `ingestionrecord.json`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Config, DataSchema } from './lib/config.js';
import { formatCsvRecord, parseCsvText, readCsvFile } from './lib/csv.js';
import {
  invalidFeature,
  invalidTarget,
  parseFeatureValue,
  parseTargetValue,
  raggedRow,
  resolveHeader,
  type ColumnLayout,
} from './lib/dataset.js';
import { DataError, UserError } from './lib/errors.js';
import { AtomicFileWriter, ensureFolder, writeFileAtomic, writeJsonAtomic } from './lib/files.js';
import { silentLogger, type Logger } from './lib/log.js';
import { runCommand } from './lib/cli.js';
import { RowSet } from './lib/row-set.js';
import { startProgress } from './lib/progress.js';

/** Names of the files ingestion writes into `output_folder_path`. */
export const FINAL_DATA = 'finaldata.csv';
export const INGESTED_FILES = 'ingestedfiles.txt';
export const INGESTION_RECORD = 'ingestionrecord.json';

/** What ingestion learned about one input file. */
export interface IngestedFile {
  name: string;
  size: number;
  /** Modification time when read (lets fullprocess skip re-hashing an unchanged file). */
  mtime_ms: number;
  sha256: string;
  rows_read: number;
  /** Rows of this file kept after dropping duplicates. */
  rows_kept: number;
  /** Empty cells per feature column. */
  missing: Record<string, number>;
  /** Set for empty or header-only files. */
  note?: string;
}

/** The machine-readable record of one ingestion (`ingestionrecord.json`). */
export interface IngestionRecord {
  format_version: 1;
  ingested_at: string;
  input_folder: string;
  output_file: string;
  columns: string[];
  files: IngestedFile[];
  totals: { files: number; rows_read: number; rows_kept: number; duplicates_dropped: number; missing: Record<string, number> };
  finaldata_sha256: string;
  duration_ms: number;
}

/** Result printed by the ingestion stage. */
export interface IngestionResult {
  output_file: string;
  files: { name: string; rows_read: number; rows_kept: number; note?: string }[];
  rows_read: number;
  rows_kept: number;
  duplicates_dropped: number;
  columns: string[];
  duration_ms: number;
}

/** Lists the `*.csv` files of a folder, sorted by name; hidden files and sub-folders are skipped. */
export function listCsvFiles(folder: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(folder, { withFileTypes: true });
  } catch (error) {
    throw new UserError(`cannot read input folder ${folder}: ${(error as NodeJS.ErrnoException).code}`, { cause: error });
  }
  return entries
    .filter((entry) => !entry.name.startsWith('.') && entry.name.toLowerCase().endsWith('.csv'))
    .filter(
      (entry) =>
        entry.isFile() || (entry.isSymbolicLink() && fs.statSync(path.join(folder, entry.name), { throwIfNoEntry: false })?.isFile()),
    )
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Reads only the header record of a CSV file (undefined when the file has none). */
function readHeader(file: string, label: string): string[] | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    let bytes: Buffer = Buffer.alloc(0);
    for (;;) {
      const count = fs.readSync(fd, buffer, 0, buffer.length, null);
      bytes = Buffer.concat([bytes, buffer.subarray(0, count)]);
      const atEnd = count === 0;
      if (!atEnd && bytes.indexOf(10) === -1) continue;
      try {
        return firstRecord(bytes.toString('utf8'), label);
      } catch (error) {
        // A quoted header name with a line break may need more text.
        if (atEnd || !(error instanceof DataError)) throw error;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

class StopReading extends Error {}

function firstRecord(text: string, label: string): string[] | undefined {
  let header: string[] | undefined;
  try {
    parseCsvText(text, label, (fields) => {
      header = fields;
      throw new StopReading();
    });
  } catch (error) {
    if (!(error instanceof StopReading)) throw error;
  }
  return header;
}

/** Text of a numeric cell as compared for duplicates: `1.0` and `1` are the same value, as in pandas. */
function canonicalNumber(text: string, value: number): string {
  if (value !== value) return '';
  const length = text.length;
  if (length > 0 && length < 16 && (text.charCodeAt(0) !== 48 || length === 1)) {
    let plain = true;
    for (let i = 0; i < length && plain; i++) {
      const code = text.charCodeAt(i);
      plain = code >= 48 && code <= 57;
    }
    if (plain) return text;
  }
  return String(value);
}

/** Per-file merge state: how the file's columns map onto the output columns. */
interface FilePlan {
  name: string;
  path: string;
  header?: string[];
  layout?: ColumnLayout;
  /** For each output column, the file's column index or -1. */
  mapping: number[];
  sameOrder: boolean;
}

/** Options of the ingestion stage. */
export interface IngestionOptions {
  /** Ingest only these file names of the input folder (fullprocess leaves out files still being written). */
  files?: string[];
}

/** Runs ingestion with the given config. */
export async function runIngestion(config: Config, options: IngestionOptions = {}, log: Logger = silentLogger): Promise<IngestionResult> {
  const started = performance.now();
  const inputFolder = config.input_folder_path;
  const listed = listCsvFiles(inputFolder);
  const names = options.files ? listed.filter((name) => options.files!.includes(name)) : listed;
  if (names.length === 0) throw new UserError(`no *.csv file in input folder ${inputFolder} (input_folder_path)`);

  const schema = config.schema;
  const plans: FilePlan[] = names.map((name) => {
    const filePath = path.join(inputFolder, name);
    const header = readHeader(filePath, name);
    const layout = header ? resolveHeader(header, schema, name) : undefined;
    return { name, path: filePath, header, layout, mapping: [], sameOrder: false };
  });
  const outputColumns = unionOfColumns(plans, schema);
  for (const plan of plans) {
    if (!plan.header) continue;
    plan.mapping = outputColumns.map((column) => plan.header!.indexOf(column));
    plan.sameOrder = plan.header.length === outputColumns.length && plan.mapping.every((index, i) => index === i);
  }

  const numericOutput = outputColumns.map((column) => schema.features.includes(column) || column === schema.target);
  const outputFolder = config.output_folder_path;
  ensureFolder(outputFolder);
  const outputFile = path.join(outputFolder, FINAL_DATA);
  // Kept rows stream into a temporary file that replaces finaldata.csv only when every file was read.
  const output = new AtomicFileWriter(outputFile);
  let finalSha: string;
  const seen = new RowSet(plans.reduce((sum, plan) => sum + fs.statSync(plan.path).size, 0) / 32);
  const files: IngestedFile[] = [];
  let rowsRead = 0;
  const progress = startProgress('ingestion');
  try {
    output.write(formatCsvRecord(outputColumns) + '\n');
    for (const [index, plan] of plans.entries()) {
      progress.update(`${plan.name} (${index + 1}/${plans.length}), ${rowsRead.toLocaleString('en')} rows so far`);
      const stats = mergeFile(plan, schema, outputColumns, numericOutput, seen, (line) => output.write(line + '\n'));
      rowsRead += stats.rows_read;
      files.push(stats);
      if (stats.note) log.warn(`${plan.name}: ${stats.note}`);
    }
    finalSha = output.commit();
  } finally {
    output.abort();
    progress.done();
  }
  const rowsKept = seen.size;
  writeFileAtomic(path.join(outputFolder, INGESTED_FILES), names.map((name) => name + '\n').join(''));

  const missingTotals = Object.fromEntries(
    schema.features.map((feature) => [feature, files.reduce((sum, file) => sum + (file.missing[feature] ?? 0), 0)]),
  );
  const durationMs = Math.round(performance.now() - started);
  const record: IngestionRecord = {
    format_version: 1,
    ingested_at: new Date().toISOString(),
    input_folder: inputFolder,
    output_file: outputFile,
    columns: outputColumns,
    files,
    totals: {
      files: files.length,
      rows_read: rowsRead,
      rows_kept: rowsKept,
      duplicates_dropped: rowsRead - rowsKept,
      missing: missingTotals,
    },
    finaldata_sha256: finalSha,
    duration_ms: durationMs,
  };
  writeJsonAtomic(path.join(outputFolder, INGESTION_RECORD), record);
  log.info(`ingested ${names.length} file(s): ${rowsRead} rows read, ${rowsKept} kept`, { output: outputFile });
  return {
    output_file: outputFile,
    files: files.map(({ name, rows_read, rows_kept, note }) => ({ name, rows_read, rows_kept, ...(note ? { note } : {}) })),
    rows_read: rowsRead,
    rows_kept: rowsKept,
    duplicates_dropped: rowsRead - rowsKept,
    columns: outputColumns,
    duration_ms: durationMs,
  };
}

/** Output columns: the schema's columns in the order of the first file, then any extra columns as they first appear. */
function unionOfColumns(plans: FilePlan[], schema: DataSchema): string[] {
  const columns: string[] = [];
  for (const plan of plans) for (const column of plan.header ?? []) if (!columns.includes(column)) columns.push(column);
  if (columns.length === 0) return [schema.id_column, ...schema.features, schema.target];
  return columns;
}

/** Column roles for the fast scan (0 for any other column). */
const FEATURE = 1;
const TARGET = 2;

/**
 * Fast path for a one-line record without quotes in a file whose columns are in
 * output order: true when every feature is empty or plain canonical digits and
 * the target is 0 or 1, so the raw line is both the output row and its
 * duplicate key. Counts missing cells into `missing` only on success.
 */
function scanCanonical(raw: string, roles: Uint8Array, featureSlot: Int32Array, missing: number[]): boolean {
  const length = raw.length;
  const count = roles.length;
  let field = 0;
  let start = 0;
  let missingMask = 0;
  for (let pos = 0; pos <= length; pos++) {
    if (pos < length && raw.charCodeAt(pos) !== 44) continue;
    if (field >= count) return false;
    const role = roles[field];
    const width = pos - start;
    if (role === FEATURE) {
      if (width === 0) {
        missingMask |= 1 << featureSlot[field];
      } else {
        if (width > 15 || (width > 1 && raw.charCodeAt(start) === 48)) return false;
        for (let k = start; k < pos; k++) {
          const digit = raw.charCodeAt(k) - 48;
          if (digit < 0 || digit > 9) return false;
        }
      }
    } else if (role === TARGET) {
      if (width !== 1) return false;
      const code = raw.charCodeAt(start);
      if (code !== 48 && code !== 49) return false;
    }
    field++;
    start = pos + 1;
  }
  if (field !== count) return false;
  if (missingMask !== 0) for (let f = 0; f < missing.length; f++) if (missingMask & (1 << f)) missing[f]++;
  return true;
}

/** Streams one file, validating every row and emitting the rows not seen before. */
function mergeFile(
  plan: FilePlan,
  schema: DataSchema,
  outputColumns: string[],
  numericOutput: boolean[],
  seen: RowSet,
  emit: (line: string) => void,
): IngestedFile {
  const missing = schema.features.map(() => 0);
  let rowsRead = 0;
  let rowsKept = 0;
  let headerSeen = false;
  const { name, layout, mapping, sameOrder } = plan;
  const outputCount = outputColumns.length;
  const values: string[] = new Array(outputCount);
  const roles = new Uint8Array(layout?.columns.length ?? 0);
  const featureSlot = new Int32Array(roles.length).fill(-1);
  layout?.featureIndexes.forEach((index, f) => {
    roles[index] = FEATURE;
    featureSlot[index] = f;
  });
  if (layout) roles[layout.targetIndex] = TARGET;
  const fastPath = sameOrder && schema.features.length <= 30;

  const general = (fields: string[], line: number, raw: string): void => {
    const { columns, featureIndexes, targetIndex } = layout!;
    if (fields.length !== columns.length) throw raggedRow(name, line, columns.length, fields.length);
    for (let f = 0; f < featureIndexes.length; f++) {
      const text = fields[featureIndexes[f]];
      const value = parseFeatureValue(text);
      if (value === undefined) throw invalidFeature(name, line, columns[featureIndexes[f]], text);
      if (value !== value) missing[f]++;
    }
    const targetText = fields[targetIndex];
    if (parseTargetValue(targetText) === undefined) throw invalidTarget(name, line, columns[targetIndex], targetText);
    rowsRead++;
    let canonical = true;
    for (let o = 0; o < outputCount; o++) {
      const index = mapping[o];
      const text = index === -1 ? '' : fields[index];
      if (numericOutput[o] && text !== '') {
        const normal = canonicalNumber(text, parseFeatureValue(text)!);
        if (normal !== text) canonical = false;
        values[o] = normal;
      } else {
        values[o] = text;
      }
    }
    const key = sameOrder && canonical && raw.indexOf('"') === -1 ? raw : formatCsvRecord(values);
    if (!seen.add(key)) return;
    rowsKept++;
    emit(sameOrder ? raw : formatCsvRecord(mapping.map((index) => (index === -1 ? '' : fields[index]))));
  };

  const mtimeMs = fs.statSync(plan.path).mtimeMs;
  const digest = readCsvFile(
    plan.path,
    name,
    (fields, line, raw) => {
      if (!headerSeen) {
        headerSeen = true;
        return;
      }
      if (fields === null && fastPath && scanCanonical(raw, roles, featureSlot, missing)) {
        rowsRead++;
        if (seen.add(raw)) {
          rowsKept++;
          emit(raw);
        }
        return;
      }
      general(fields ?? raw.split(','), line, raw);
    },
    { lazy: true },
  );
  const note = !headerSeen ? 'empty file (no header, no rows)' : rowsRead === 0 ? 'header only, no data rows' : undefined;
  return {
    name,
    size: digest.size,
    mtime_ms: mtimeMs,
    sha256: digest.sha256,
    rows_read: rowsRead,
    rows_kept: rowsKept,
    missing: Object.fromEntries(schema.features.map((feature, f) => [feature, missing[f]])),
    ...(note ? { note } : {}),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCommand({
    name: 'ingestion',
    description: 'Merge every *.csv of input_folder_path into finaldata.csv, dropping exact duplicate rows',
    run: (config, _options, log) => runIngestion(config, {}, log),
  });
}
