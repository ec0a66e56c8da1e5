/**
 * The configuration: the original five folder keys plus optional sections with
 * defaults. Validated once at start by a valibot schema; relative paths resolve
 * against the folder of the config file, so a config works from any directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import { asFileSystemError, ConfigError } from './errors.js';
import { describeIssues, strictObject } from './schema-issues.js';

/** Default data schema, as in the original project's files. */
export const DEFAULT_SCHEMA = {
  id_column: 'corporation',
  features: ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'],
  target: 'exited',
} as const;

const text = v.pipe(v.string(), v.minLength(1, 'must not be empty'));
const folder = v.pipe(v.string(), v.minLength(1, 'must be a non-empty path'));
const between = (min: number, max: number) =>
  v.pipe(v.number(), v.minValue(min, `must be at least ${min}`), v.maxValue(max, `must be at most ${max}`));
const integer = (min: number, max: number) => v.pipe(v.number(), v.safeInteger('must be a whole number'), between(min, max));
const positive = v.pipe(v.number(), v.gtValue(0, 'must be greater than 0'));
const oneOf = <const Options extends string[]>(options: Options) =>
  v.picklist(options, `must be one of ${options.map((option) => JSON.stringify(option)).join(', ')}`);
const SIZE = 'must be a byte count or a size such as "5mb"';
/** An optional section: each key has its default, so an absent section is all defaults. */
const section = <Entries extends v.ObjectEntries>(entries: Entries) =>
  v.optional(strictObject(entries), {} as v.InferInput<v.StrictObjectSchema<Entries, undefined>>);

const schemaEntries = {
  id_column: v.optional(text, DEFAULT_SCHEMA.id_column),
  features: v.optional(
    v.pipe(
      v.array(text),
      v.minLength(1, 'needs at least one feature column'),
      v.check((list) => new Set(list).size === list.length, 'feature names must be unique'),
    ),
    () => [...DEFAULT_SCHEMA.features],
  ),
  target: v.optional(text, DEFAULT_SCHEMA.target),
  /** Text columns, one-hot encoded over the levels seen in training. */
  categorical_features: v.optional(
    v.pipe(
      v.array(text),
      v.check((list) => new Set(list).size === list.length, 'categorical feature names must be unique'),
    ),
    () => [],
  ),
  /** The target's two values as written, [negative, positive]; without it the target is 0/1. */
  target_labels: v.optional(
    v.pipe(
      v.strictTuple([text, text], 'must be a pair [negative, positive] of strings'),
      v.check(([negative, positive]) => negative !== positive, 'the two labels must differ'),
    ),
  ),
};

const modelEntries = {
  objective: v.optional(oneOf(['standardized', 'liblinear']), 'standardized'),
  C: v.optional(v.pipe(positive, v.finite('must be finite')), 1.0),
  max_iter: v.optional(integer(1, 10_000), 100),
  tol: v.optional(v.pipe(positive, v.maxValue(1, 'must be at most 1')), 1e-10),
};

const driftEntries = {
  rule: v.optional(oneOf(['raw', 'parametric', 'nonparametric']), 'raw'),
  data_drift_trigger: v.optional(v.boolean(), false),
  psi_bins: v.optional(integer(2, 100), 10),
  psi_threshold: v.optional(positive, 0.2),
  ks_alpha: v.optional(v.pipe(positive, v.ltValue(1, 'must be less than 1')), 0.05),
};

const automationEntries = {
  gate: v.optional(v.boolean(), true),
  settle_seconds: v.optional(between(0, 3600), 5),
  // A lease not renewed for this long is taken over; its holder renews every fifth of it. At 10 s a
  // killed tick's lease is free within 10 s of the kill (SPEC: 15 s), and a holder's renewals may run
  // 8 s late on a loaded machine before it loses the lease.
  lock_stale_seconds: v.optional(between(1, 3600), 10),
  schedule: v.optional(text, '*/10 * * * *'),
};

const apiEntries = {
  host: v.optional(text, '127.0.0.1'),
  port: v.optional(integer(0, 65535), 8000),
  url: v.optional(
    v.nullable(v.pipe(v.string(), v.trim(), v.url('must be a URL'), v.regex(/^https?:\/\//i, 'must be an http:// or https:// URL'))),
    null,
  ),
  token: v.optional(v.nullable(text), null),
  body_limit: v.optional(
    v.union(
      [v.pipe(v.number(), v.safeInteger(SIZE), v.gtValue(0, SIZE)), v.pipe(v.string(), v.regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)$/i, SIZE))],
      SIZE,
    ),
    '5mb',
  ),
  reload_interval_ms: v.optional(integer(50, 60_000), 500),
  // Origins whose browser apps may call the API (CORS, see api/cors.ts); none by default.
  cors_origins: v.optional(
    v.array(
      v.pipe(v.string(), v.trim(), v.toLowerCase(), v.regex(/^https?:\/\/[^/?#\s]+$/, 'must be an origin: http(s)://host[:port], no path')),
      'must be a list of origins',
    ),
    [],
  ),
  workers: v.optional(integer(1, 64), 1),
};

const diagnosticsEntries = {
  outdated_timeout_ms: v.optional(integer(100, 600_000), 20_000),
  outdated_cache_seconds: v.optional(v.pipe(v.number(), v.minValue(0, 'must be at least 0')), 3600),
};

const topEntries = {
  input_folder_path: folder,
  output_folder_path: folder,
  test_data_path: folder,
  output_model_path: folder,
  prod_deployment_path: folder,
};

/** The schema of a config file. */
export const configFileSchema = strictObject({
  ...topEntries,
  schema: section(schemaEntries),
  model: section(modelEntries),
  drift: section(driftEntries),
  automation: section(automationEntries),
  api: section(apiEntries),
  diagnostics: section(diagnosticsEntries),
});

type ConfigFile = v.InferOutput<typeof configFileSchema>;

/** A validated config: every folder is an absolute path. */
export type Config = ConfigFile & {
  /** Absolute path of the config file this came from. */
  configFile: string;
  /** Folder of the config file; relative paths resolved against it. */
  baseFolder: string;
};

export type DataSchema = Config['schema'];
export type ModelSettings = Config['model'];
export type DriftSettings = Config['drift'];

const INPUT_KEYS = ['input_folder_path', 'test_data_path'] as const;
const OUTPUT_KEYS = ['output_folder_path', 'output_model_path', 'prod_deployment_path'] as const;

/**
 * Validates a parsed config object. Pure apart from checking that folders exist
 * (when `checkFolders`). Throws one ConfigError listing every problem.
 */
export function validateConfig(value: unknown, configFile: string, checkFolders = true): Config {
  const absoluteFile = path.resolve(configFile);
  const baseFolder = path.dirname(absoluteFile);
  const parsed = v.safeParse(configFileSchema, value);
  if (!parsed.success) {
    const problems = describeIssues(configFileSchema, parsed.issues, value).map((problem) => `  ${problem}`);
    throw new ConfigError(`invalid config ${absoluteFile}:\n${problems.join('\n')}`);
  }
  const config: Config = { ...parsed.output, configFile: absoluteFile, baseFolder };
  for (const key of [...INPUT_KEYS, ...OUTPUT_KEYS]) config[key] = path.resolve(baseFolder, config[key]);
  if (process.env.PORT !== undefined) config.api = { ...config.api, port: parsePort(process.env.PORT) };
  if (process.env.API_TOKEN) config.api = { ...config.api, token: process.env.API_TOKEN };

  const { features, target, id_column, categorical_features: categorical } = config.schema;
  if (features.includes(target)) {
    throw new ConfigError(`invalid config ${absoluteFile}:\n  schema.target: "${target}" is also listed in schema.features`);
  }
  if (features.includes(id_column) || id_column === target) {
    throw new ConfigError(`invalid config ${absoluteFile}:\n  schema.id_column: "${id_column}" is also a feature or the target`);
  }
  const clash = categorical.find((name) => features.includes(name) || name === target || name === id_column);
  if (clash !== undefined) {
    const role = features.includes(clash) ? 'listed in schema.features' : clash === target ? 'the target' : 'the id column';
    throw new ConfigError(
      `invalid config ${absoluteFile}:\n  schema.categorical_features: "${clash}" is also ${role}; a column has one role`,
    );
  }
  if (checkFolders) checkConfigFolders(config);
  return config;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new ConfigError(`PORT: "${text}" is not a port number (0-65535)`);
  return port;
}

function statFolder(folderPath: string): fs.Stats | undefined {
  return fs.statSync(folderPath, { throwIfNoEntry: false });
}

/** The problem with a folder path, in words, or undefined when it is fine. */
function folderProblem(folderPath: string, mustExist: boolean): string | undefined {
  let stat: fs.Stats | undefined;
  try {
    stat = statFolder(folderPath);
  } catch (error) {
    return (asFileSystemError(error)?.message ?? String(error)).replace(/^cannot read /, 'cannot use ');
  }
  if (!stat) return mustExist ? `folder not found: ${folderPath}` : undefined;
  if (!stat.isDirectory()) return `not a folder: ${folderPath}`;
  return undefined;
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (relative !== '..' && !relative.startsWith('..' + path.sep) && !path.isAbsolute(relative));
}

/** The real path of a folder (or of its nearest existing ancestor, with the rest appended). */
function realFolder(folderPath: string): string {
  let existing = folderPath;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(existing), ...rest);
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return folderPath;
      rest.unshift(path.basename(existing));
      existing = parent;
    }
  }
}

/**
 * Input folders must exist; output folders must be folders when they exist
 * (they are created on demand) and lie outside the input folder, whose every
 * *.csv is read as client data.
 */
function checkConfigFolders(config: Config): void {
  const problems: string[] = [];
  for (const key of INPUT_KEYS) {
    const problem = folderProblem(config[key], true);
    if (problem) problems.push(`  ${key}: ${problem}`);
  }
  const input = realFolder(config.input_folder_path);
  for (const key of OUTPUT_KEYS) {
    const problem = folderProblem(config[key], false);
    if (problem) problems.push(`  ${key}: ${problem}`);
    else if (isInside(realFolder(config[key]), input)) {
      problems.push(
        `  ${key}: ${config[key]} is the input folder or inside it (input_folder_path: ${config.input_folder_path}); outputs must live elsewhere`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid config ${config.configFile}:\n${problems.join('\n')}`);
}

/** Reads, parses and validates a config file. */
export function loadConfig(configFile = './config.json'): Config {
  const absoluteFile = path.resolve(configFile);
  let text: string;
  try {
    text = fs.readFileSync(absoluteFile, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'config file not found' : `cannot read config file (${code})`;
    throw new ConfigError(`${reason}: ${absoluteFile}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${absoluteFile} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return validateConfig(value, absoluteFile);
}

/** The same config with its output folders moved under `scratch` (diagnostics timings, dry runs). */
export function withScratchOutputs(config: Config, scratch: string): Config {
  return {
    ...config,
    output_folder_path: path.join(scratch, 'ingesteddata'),
    output_model_path: path.join(scratch, 'models'),
    prod_deployment_path: path.join(scratch, 'production_deployment'),
  };
}
