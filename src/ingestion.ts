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
import { formatCsvRecord, readCsvHeader } from './lib/data/csv.js';
import { resolveHeader } from './lib/data/dataset.js';
import { DataError, UserError } from './lib/errors.js';
import { AtomicFileWriter, ensureFolder, writeFileAtomic, writeJsonAtomic } from './lib/store/files.js';
import { Generation } from './lib/store/generations.js';
import { listCsvFiles } from './lib/data/input-folder.js';
import { artefactPaths, FILE_NAMES } from './lib/layout.js';
import { silentLogger, type Logger } from './lib/log.js';
import { DuplicateFilter, readFileRows, type FilePlan, type FileRows, type MergeColumns } from './lib/data/merge.js';
import { startProgress } from './lib/progress.js';
import type { IngestedFile, IngestionRecord } from './lib/store/records.js';
import { RowSet } from './lib/data/row-set.js';

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
    const columns: MergeColumns = {
      schema,
      outputColumns,
      // Categorical cells and a labelled target are text, compared as written like the id.
      numericOutput: outputColumns.map((column) => schema.features.includes(column) || (column === schema.target && !schema.target_labels)),
    };
    const dedupe = new DuplicateFilter(seen, output);
    const files: IngestedFile[] = [];
    let rowsRead = 0;
    const fileDone = (rows: FileRows): void => {
      files.push({ ...rows, rows_kept: dedupe.takeKept() });
      rowsRead += rows.rows_read;
      if (rows.note) log.warn(`${rows.name}: ${rows.note}`);
      progress.update(() => `${files.length}/${plans.length} files, ${rowsRead.toLocaleString('en')} rows so far`);
    };
    let finalSha: string;
    try {
      output.write(formatCsvRecord(outputColumns) + '\n');
      for (const plan of plans) fileDone(readFileRows(plan, columns, dedupe));
      finalSha = output.commit();
    } finally {
      output.abort();
    }
    const rowsKept = seen.size;
    writeFileAtomic(path.join(generation.folder, FILE_NAMES.ingestedFiles), names.map((name) => name + '\n').join(''));
    const missingTotals = Object.fromEntries(
      [...schema.features, ...schema.categorical_features].map((feature) => [
        feature,
        files.reduce((sum, file) => sum + (file.missing[feature] ?? 0), 0),
      ]),
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
  if (columns.length === 0) return [schema.id_column, ...schema.features, ...schema.categorical_features, schema.target];
  return columns;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCommand({
    name: 'ingestion',
    description: `Merge every *.csv of input_folder_path into ${FILE_NAMES.finalData}, dropping exact duplicate rows`,
    run: (config, _options, log) => runIngestion(config, {}, log),
  });
}
