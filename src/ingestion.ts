/**
 * ingestion: merges every *.csv of the input folder (sorted by name) into
 * the final data file, dropping exact duplicate rows (whole row, first kept, as
 * pandas `drop_duplicates()`), and records what it read in the ingested-files
 * list and the ingestion record (names and paths: lib/layout.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCommand } from './lib/cli.js';
import type { Config, DataSchema } from './lib/config.js';
import { formatCsvRecord, readCsvFile, readCsvHeader } from './lib/csv.js';
import {
  invalidFeature,
  invalidTarget,
  parseFeatureValue,
  parseTargetValue,
  PlainRecordScanner,
  raggedRow,
  resolveHeader,
  type ColumnLayout,
} from './lib/dataset.js';
import { DataError, UserError } from './lib/errors.js';
import { AtomicFileWriter, ensureFolder, writeFileAtomic, writeJsonAtomic } from './lib/files.js';
import { statIdentity } from './lib/file-tracker.js';
import { Generation } from './lib/generations.js';
import { listCsvFiles } from './lib/input-folder.js';
import { artefactPaths, FILE_NAMES } from './lib/layout.js';
import { silentLogger, type Logger } from './lib/log.js';
import { startProgress } from './lib/progress.js';
import type { IngestedFile, IngestionRecord } from './lib/records.js';
import { RowSet } from './lib/row-set.js';

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
  const wanted = options.files ? new Set(options.files) : undefined;
  const names = wanted ? listed.filter((name) => wanted.has(name)) : listed;
  if (names.length === 0) throw new UserError(`no *.csv file in input folder ${inputFolder} (input_folder_path)`);
  // The list of ingested files is one name a line, as the original's: a name with a line break cannot be listed.
  const broken = names.find((name) => /[\r\n]/.test(name));
  if (broken !== undefined) {
    throw new DataError(
      { file: JSON.stringify(broken) },
      'the file name holds a line break; rename the file (one name a line is kept of what was ingested)',
    );
  }

  const schema = config.schema;
  const plans: FilePlan[] = names.map((name) => {
    const filePath = path.join(inputFolder, name);
    const header = readCsvHeader(filePath, name);
    const layout = header ? resolveHeader(header, schema, name) : undefined;
    return { name, path: filePath, header, layout, mapping: [], sameOrder: false };
  });
  const outputColumns = unionOfColumns(plans, schema);
  for (const plan of plans) {
    if (!plan.header) continue;
    plan.mapping = outputColumns.map((column) => plan.header!.indexOf(column));
    plan.sameOrder = plan.header.length === outputColumns.length && plan.mapping.every((index, i) => index === i);
  }

  const paths = artefactPaths(config);
  ensureFolder(config.output_folder_path);
  // The three outputs are written into one generation and switched in together, or not at all.
  const generation = new Generation(config.output_folder_path, FILE_NAMES.ingestionGenerations, [
    FILE_NAMES.finalData,
    FILE_NAMES.ingestedFiles,
    FILE_NAMES.ingestionRecord,
  ]);
  const progress = startProgress('ingestion');
  try {
    const output = new AtomicFileWriter(path.join(generation.folder, FILE_NAMES.finalData));
    // The keys are the rows: at most the input's bytes, in rows of some 32 bytes or more.
    const inputBytes = plans.reduce((sum, plan) => sum + fs.statSync(plan.path).size, 0);
    const seen = new RowSet(inputBytes / 32, inputBytes);
    const mergeTarget: MergeTarget = {
      schema,
      outputColumns,
      numericOutput: outputColumns.map((column) => schema.features.includes(column) || column === schema.target),
      seen,
      emit: (line) => output.write(line + '\n'),
      emitBytes: (bytes, start, end) => {
        output.writeBytes(bytes, start, end);
        output.writeByte(10);
      },
    };
    const files: IngestedFile[] = [];
    let rowsRead = 0;
    let finalSha: string;
    try {
      output.write(formatCsvRecord(outputColumns) + '\n');
      for (const [index, plan] of plans.entries()) {
        progress.update(`${plan.name} (${index + 1}/${plans.length}), ${rowsRead.toLocaleString('en')} rows so far`);
        const stats = mergeFile(plan, mergeTarget);
        rowsRead += stats.rows_read;
        files.push(stats);
        if (stats.note) log.warn(`${plan.name}: ${stats.note}`);
      }
      finalSha = output.commit();
    } finally {
      output.abort();
    }
    const rowsKept = seen.size;
    writeFileAtomic(path.join(generation.folder, FILE_NAMES.ingestedFiles), names.map((name) => name + '\n').join(''));
    const missingTotals = Object.fromEntries(
      schema.features.map((feature) => [feature, files.reduce((sum, file) => sum + (file.missing[feature] ?? 0), 0)]),
    );
    const durationMs = Math.round(performance.now() - started);
    const record: IngestionRecord = {
      format_version: 1,
      ingested_at: new Date().toISOString(),
      input_folder: inputFolder,
      output_file: paths.finalData,
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
    writeJsonAtomic(path.join(generation.folder, FILE_NAMES.ingestionRecord), record);
    generation.publish();
    log.info(`ingested ${names.length} file(s): ${rowsRead} rows read, ${rowsKept} kept`, { output: paths.finalData });
    return {
      output_file: paths.finalData,
      files: files.map(({ name, rows_read, rows_kept, note }) => ({ name, rows_read, rows_kept, ...(note ? { note } : {}) })),
      rows_read: rowsRead,
      rows_kept: rowsKept,
      duplicates_dropped: rowsRead - rowsKept,
      columns: outputColumns,
      duration_ms: durationMs,
    };
  } finally {
    generation.abort();
    progress.done();
  }
}

/** Output columns: the schema's columns in the order of the first file, then any extra columns as they first appear. */
function unionOfColumns(plans: FilePlan[], schema: DataSchema): string[] {
  const columns: string[] = [];
  for (const plan of plans) for (const column of plan.header ?? []) if (!columns.includes(column)) columns.push(column);
  if (columns.length === 0) return [schema.id_column, ...schema.features, schema.target];
  return columns;
}

/** What every file's merge shares: the output columns and where kept rows go. */
interface MergeTarget {
  schema: DataSchema;
  outputColumns: string[];
  /** For each output column: true for a feature or the target (compared as numbers). */
  numericOutput: boolean[];
  seen: RowSet;
  /** Writes one output row (without its line break). */
  emit: (line: string) => void;
  /** Writes one output row given as bytes of a read buffer (without its line break). */
  emitBytes: (bytes: Uint8Array, start: number, end: number) => void;
}

/** Streams one file, validating every row and emitting the rows not seen before. */
function mergeFile(plan: FilePlan, target: MergeTarget): IngestedFile {
  const { schema, outputColumns, numericOutput, seen, emit, emitBytes } = target;
  const missing = schema.features.map(() => 0);
  let rowsRead = 0;
  let rowsKept = 0;
  let headerSeen = false;
  const { name, layout, mapping, sameOrder } = plan;
  const outputCount = outputColumns.length;
  const values: string[] = new Array<string>(outputCount);
  // A plain record of a file in output order is its own output row and duplicate key.
  const scanner = layout && sameOrder ? new PlainRecordScanner(layout) : undefined;

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

  // Taken before reading: a file changed while it is read then looks changed to the next tick.
  const stat = fs.statSync(plan.path, { bigint: true });
  const digest = readCsvFile(
    plan.path,
    name,
    (fields, line, raw) => {
      if (!headerSeen) {
        headerSeen = true;
        return;
      }
      general(fields ?? raw.split(','), line, raw);
    },
    {
      lazy: true,
      // The fast path, on bytes: a plain line of a file in output order is its own output row and duplicate key.
      onPlainLine: (bytes, start, end) => {
        if (!headerSeen || !scanner?.scan(bytes, start, end)) return false;
        for (let f = 0; f < missing.length; f++) if (scanner.values[f] !== scanner.values[f]) missing[f]++;
        rowsRead++;
        if (seen.addBytes(bytes, start, end)) {
          rowsKept++;
          emitBytes(bytes, start, end);
        }
        return true;
      },
    },
  );
  const note = !headerSeen ? 'empty file (no header, no rows)' : rowsRead === 0 ? 'header only, no data rows' : undefined;
  return {
    name,
    size: digest.size,
    mtime_ms: Number(stat.mtimeNs) / 1e6,
    stat_identity: statIdentity(stat),
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
    description: `Merge every *.csv of input_folder_path into ${FILE_NAMES.finalData}, dropping exact duplicate rows`,
    run: (config, _options, log) => runIngestion(config, {}, log),
  });
}
