/**
 * init-config: writes a config for the user's own CSV, its schema inferred
 * from the file (src/lib/data/schema-inference.ts has the rules), and prints
 * the decision and its reason for every column.
 *
 *   npm run init-config -- --data mydata/clients.csv [--target churn] [--out config.json] [--force]
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveUserPath, runConfiglessCommand } from './lib/cli.js';
import { readCsvFile } from './lib/data/csv.js';
import {
  ColumnProfiler,
  DRAFT_FOLDERS,
  draftConfig,
  inferSchema,
  MAX_LEVELS,
  type ColumnDecision,
  type InferredSchema,
} from './lib/data/schema-inference.js';
import { DataError, UserError } from './lib/errors.js';
import { FILE_NAMES } from './lib/layout.js';
import { silentLogger, type Logger } from './lib/log.js';
import { ensureFolder, writeJsonAtomic } from './lib/store/files.js';

/** Options of init-config; paths are absolute. */
export interface InitConfigOptions {
  data: string;
  target?: string;
  out: string;
  force?: boolean;
}

/** Result printed by init-config. */
export interface InitConfigResult {
  config_file: string;
  data_file: string;
  rows: number;
  schema: InferredSchema;
  columns: ColumnDecision[];
  /** What the user must do or know before `fullprocess`. */
  next_steps: string[];
}

/** Reads the data file, infers its schema and writes the config (never over an existing file without `force`). */
export async function runInitConfig(options: InitConfigOptions, log: Logger = silentLogger): Promise<InitConfigResult> {
  const dataFile = path.resolve(options.data);
  const configFile = path.resolve(options.out);
  const stat = fs.statSync(dataFile, { throwIfNoEntry: false });
  if (!stat) throw new UserError(`--data: file not found: ${dataFile}`);
  if (!stat.isFile()) throw new UserError(`--data: not a file: ${dataFile}`);
  if (fs.existsSync(configFile) && !options.force) {
    throw new UserError(`${configFile} already exists; use --force to replace it (or --out to write elsewhere)`);
  }
  const dataFolder = path.dirname(dataFile);
  const configFolder = path.dirname(configFile);
  const inputFolder = path.relative(configFolder, dataFolder);
  if (isInside(configFolder, dataFolder)) {
    throw new UserError(
      `the config ${configFile} would sit in the data file's folder ${dataFolder} (or under it): its output folders would be inside the input folder, ` +
        `where every *.csv is read as client data; put the data file in a folder of its own (e.g. data/) or write the config elsewhere with --out`,
    );
  }

  const label = path.basename(dataFile);
  let profiler: ColumnProfiler | undefined;
  readCsvFile(dataFile, label, (fields, line) => {
    if (profiler) profiler.add(fields, line);
    else profiler = new ColumnProfiler(fields, label);
  });
  if (!profiler) throw new DataError({ file: label }, 'the file is empty: a header row and data rows are needed');
  const { schema, columns } = inferSchema(profiler.profiles(), label, { target: options.target });
  log.info(`${label}: ${profiler.rows.toLocaleString('en')} rows, ${columns.length} columns`);
  for (const decision of columns) log.info(`${decision.column}: ${decision.role}: ${decision.reason}`);

  const config = draftConfig(schema, inputFolder);
  ensureFolder(configFolder);
  writeJsonAtomic(configFile, config);
  log.info(`config written to ${configFile}`);
  const nextSteps = nextStepsFor(configFile, dataFolder, dataFile);
  for (const step of nextSteps) log.info(`next: ${step}`);
  return { config_file: configFile, data_file: dataFile, rows: profiler.rows, schema, columns, next_steps: nextSteps };
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** What remains before `fullprocess` can run on the new config. */
function nextStepsFor(configFile: string, dataFolder: string, dataFile: string): string[] {
  const configFolder = path.dirname(configFile);
  const steps: string[] = [];
  const others = fs
    .readdirSync(dataFolder)
    .filter((name) => name.toLowerCase().endsWith('.csv') && name !== path.basename(dataFile))
    .sort();
  if (others.length > 0) {
    steps.push(`every *.csv in ${dataFolder} is input, with the same columns: ${others.join(', ')} as well as ${path.basename(dataFile)}`);
  }
  const testData = path.join(configFolder, DRAFT_FOLDERS.test_data_path, FILE_NAMES.testData);
  if (!fs.existsSync(testData)) {
    steps.push(
      `put labelled rows kept out of the input, with the same columns, in ${testData}: scoring and the drift check read it, and the config is refused until its folder exists`,
    );
  }
  steps.push(`look at the config (categorical features take at most ${MAX_LEVELS} levels; move columns between the lists by hand)`);
  steps.push(`run npm run fullprocess -- --config ${configFile}`);
  return steps;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runConfiglessCommand<{ data: string; target?: string; out: string; force?: boolean }>({
    name: 'init-config',
    description: 'Write a config for your own CSV: the schema is inferred from the file, with the reason for every column',
    options: (program) =>
      program
        .requiredOption('--data <csv>', 'the CSV to infer the schema from (its folder becomes input_folder_path)')
        .option('--target <column>', 'the target column (default: the one column with exactly two values)')
        .option('--out <file>', 'the config file to write', 'config.json')
        .option('--force', 'replace the config file if it exists'),
    run: (options, log) =>
      runInitConfig(
        { data: resolveUserPath(options.data), target: options.target, out: resolveUserPath(options.out), force: options.force },
        log,
      ),
  });
}
